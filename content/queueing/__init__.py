"""Posts and events on their way to becoming publications: queued one by one or in bulk, drafted
and approved, paged through and moved, rescheduled or cancelled with their events, given weekly
slots, and settled by a person when the engine could not finish them."""
