"""What comes in from outside to be planned: a month's plan from a spreadsheet (xlsx or csv) or a
calendar (.ics, which also goes out as the events feed), and the items of RSS/Atom feeds."""
