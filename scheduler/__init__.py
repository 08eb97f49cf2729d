"""The publishing engine: claims due publications, calls channels, records outcomes; event
reminders; engagement collection. APScheduler only decides *when*. Arrives with the engine issue."""
