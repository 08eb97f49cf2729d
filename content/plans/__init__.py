"""Importing a month's plan from a spreadsheet (xlsx or csv) or a calendar (.ics)."""
