"""Channels: one module per platform behind one Channel protocol; the only code that talks to a
social network (Telegram, Facebook Pages, Instagram), and the edge where Afisha fetches from the
web (download.py: the images a plan names by link). Arrives with the channels issue."""
