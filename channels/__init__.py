"""Channels: one module per platform behind one Channel protocol; the only code that talks to a
social network (Telegram, Facebook Pages, Instagram). Arrives with the channels issue."""
