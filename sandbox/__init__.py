"""Local emulators of the platforms' HTTP APIs (Telegram Bot API, Graph API for Facebook Pages and
Instagram), for tests and the demo.

The sandbox is the outside world: it imports no product package.
"""
