"""The Telegram staff and follower bot: handlers, conversations, keyboards, messages in four
languages. Arrives with the staff bot issue."""
