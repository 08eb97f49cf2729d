"""/new, the flow that prepares a post: its routes (handlers.py) and what it shows (screens.py)."""

from bot.flows.new_post.handlers import routes

__all__ = ["routes"]
