"""Emulator of the Graph API for Facebook Pages and Instagram (to be written)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from aiohttp import web

if TYPE_CHECKING:
    from sandbox.app import Sandbox


def add_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Register the Graph API routes."""
