"""What the bot needs from the rest of Afisha, handed in by the wiring (the bot imports no
adapter or configuration of its own)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from scheduler.clock import Clock


@dataclass
class BotServices:
    sessions: sessionmaker[Session]
    clock: Clock
    media_dir: Path
    default_language: str = "en"
    # Called after the bot queued or settled something, so the engine looks again at once.
    queue_changed: Callable[[], None] = field(default=lambda: None)
    # Downloads an image a plan names by web link into a folder (the wiring hands in the
    # downloader at the network's edge: channels.download.download_image).
    fetch_image: Callable[[str, Path], Path] = field(kw_only=True)
