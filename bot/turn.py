"""One incoming update being handled: who sent it, in which language, and what to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Permission, allowed
from bot.conversation import Conversation
from bot.services import BotServices
from content.domain.timeparse import zone
from content.i18n import translate
from content.storage.models import Organization, StaffMember

if TYPE_CHECKING:
    from bot.router import Router


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None  # callback data (≤ 64 bytes)
    url: str | None = None


Keyboard = list[list[Button]]


@dataclass
class Reply:
    """A message the bot sends (or edits) once the turn's changes are committed."""

    text: str
    keyboard: Keyboard | None = None
    chat_id: int | None = None  # default: the chat the update came from
    edit_message_id: int | None = None
    photo: Path | bytes | None = None
    document: tuple[str, bytes] | None = None  # (file name, contents); `text` is its caption
    # Remember the sent message's id under this key in the conversation (for later edits).
    remember_as: str | None = None


@dataclass
class Incoming:
    """The parts of an update the flows read."""

    update_id: int
    user_id: int
    chat_id: int
    text: str | None = None
    command: str | None = None  # without the slash, lower case
    args: str = ""
    callback_data: str | None = None
    callback_message_id: int | None = None
    photo_path: Path | None = None  # a received photo, already downloaded
    document_name: str | None = None
    document_path: Path | None = None
    forwarded: bool = False
    user_language: str | None = None  # what the user's Telegram client says


@dataclass
class Turn:
    incoming: Incoming
    services: BotServices
    session: Session
    staff: StaffMember | None
    language: str
    conversation: Conversation
    router: Router  # every route, e.g. for /help's list of commands
    replies: list[Reply] = field(default_factory=list)
    callback_answer: str | None = None
    callback_start: str | None = None  # open the bot with this /start parameter instead
    queue_changed: bool = False
    # Slow work that must not hold the database transaction open: run after the commit, and
    # its replies are sent like the others.
    later: list[Callable[[], Awaitable[list[Reply]]]] = field(default_factory=list)

    # --- language ------------------------------------------------------------------------------

    def _(self, message: str, /, **params: Any) -> str:
        """`message` in this person's language."""
        return translate(self.language, message, **params)

    # --- answering -----------------------------------------------------------------------------

    def say(self, text: str, keyboard: Keyboard | None = None, **options: Any) -> Reply:
        reply = Reply(text, keyboard, **options)
        self.replies.append(reply)
        return reply

    def edit(self, text: str, keyboard: Keyboard | None = None) -> Reply:
        """Edit the message whose button was pressed (or send anew if there is none)."""
        return self.say(text, keyboard, edit_message_id=self.incoming.callback_message_id)

    def answer(self, text: str, *, start: str | None = None) -> None:
        """The short notice shown when a button is pressed; with `start`, the button opens the
        person's chat with the bot at /start `start` (t.me/<bot>?start=...)."""
        self.callback_answer = text
        self.callback_start = start

    # --- who is asking -------------------------------------------------------------------------

    def may(self, permission: Permission) -> bool:
        return allowed(self.staff, permission)

    def require(self, permission: Permission) -> bool:
        """True if allowed; otherwise answers with a refusal that says what to do."""
        if self.may(permission):
            return True
        if self.staff is None:
            self.say(
                self._(
                    "Sorry, this bot is for the library's staff. If you work here, send your "
                    "Telegram id {id} to an administrator so they can add you.",
                    id=self.incoming.user_id,
                )
            )
        else:
            self.say(self._("Your role does not allow this. Ask an administrator if you need it."))
        return False

    # --- the organisation ----------------------------------------------------------------------

    @property
    def organization(self) -> Organization:
        org = self.session.scalars(select(Organization).order_by(Organization.id)).first()
        if org is None:
            raise LookupError("Afisha has no organisation yet: run `afisha init`")
        return org

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.organization.timezone)

    def now(self) -> datetime:
        return self.services.clock.now()
