"""Engagement as files people open: the monthly report as PDF or XLSX (and CSV), and charts as
PNG, drawn from the figures `content.analytics` gathers."""
