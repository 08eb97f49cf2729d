"""One incoming update being handled: who sent it, in which language, and what to answer."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.access import Permission, Standing, allowed, standings
from bot.conversation import Conversation
from bot.services import BotServices
from content.domain.timeparse import zone
from content.errors import InvalidInput
from content.i18n import translate
from content.storage.models import (
    Channel,
    ChosenOrganization,
    Event,
    Organization,
    Post,
    StaffMember,
)

if TYPE_CHECKING:
    from bot.router import Router


@dataclass(frozen=True)
class Button:
    text: str
    data: str | None = None  # callback data (≤ 64 bytes)
    url: str | None = None


Keyboard = list[list[Button]]
# The conversation data key of the organisation a conversation began in.
ORG_KEY = "organization_id"


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
    memberships: list[StaffMember]  # the person's staff rows, one per organisation
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
    # Every organisation the person may reach, and their standing there.
    reach: dict[int, Standing] = field(init=False)
    # The organisation this turn acts on (None: not decided yet, see `organization`).
    acting_id: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.reach = standings(self.session, self.memberships)
        conversation_org = self.conversation.data.get(ORG_KEY)
        if self.conversation.active and conversation_org is not None:
            if conversation_org in self.reach:
                self.acting_id = conversation_org  # a conversation stays in its library
            else:
                self.conversation.end()  # no longer theirs to reach: it goes

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

    @property
    def standing(self) -> Standing | None:
        """The person's standing in the organisation acted on (None: a stranger there)."""
        return self.reach.get(self.organization.id)

    @property
    def staff(self) -> StaffMember | None:
        """The staff row that speaks for the person in the organisation acted on."""
        standing = self.standing
        return standing.staff if standing is not None else None

    def may(self, permission: Permission) -> bool:
        return allowed(self.standing, permission)

    def may_anywhere(self, permission: Permission) -> bool:
        """Whether the person may do this in at least one library they reach."""
        return self.may(permission) or any(allowed(s, permission) for s in self.reach.values())

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
        """The organisation acted on: the one a pressed button or the conversation names, else
        the person's chosen one, else their first; for a stranger, the first there is."""
        if self.acting_id is None:
            self.acting_id = self._default_organization_id()
        return self.session.get_one(Organization, self.acting_id)

    def library_header(self) -> str:
        """The library acted on, atop a flow's first message (for those who reach several)."""
        return "🏛 " + self.organization.name

    def remember_organization(self) -> None:
        """A conversation begun in this turn keeps the library it began in for its next steps."""
        if self.conversation.active and ORG_KEY not in self.conversation.data:
            self.conversation.data[ORG_KEY] = self.organization.id

    @contextmanager
    def in_conversation_library(self) -> Iterator[None]:
        """Act, for a while, in the library the conversation began in (to keep its work)."""
        saved = self.acting_id
        library = self.conversation.data.get(ORG_KEY)
        if library in self.reach:
            self.acting_id = library
        try:
            yield
        finally:
            self.acting_id = saved

    def act_in(self, organization_id: int) -> None:
        self.acting_id = organization_id

    def chosen_organization_id(self) -> int | None:
        """The library the person chose to work in, if they still reach it."""
        chosen = self.session.get(ChosenOrganization, self.incoming.user_id)
        if chosen is None or chosen.organization_id not in self.reach:
            return None
        return chosen.organization_id

    def choose_organization(self, organization_id: int) -> None:
        """Remember the library the person works in from now on (and act in it)."""
        chosen = self.session.get(ChosenOrganization, self.incoming.user_id)
        if chosen is None:
            chosen = ChosenOrganization(telegram_user_id=self.incoming.user_id)
            self.session.add(chosen)
        chosen.organization_id = organization_id
        chosen.chosen_at = self.now()
        self.acting_id = organization_id

    def _default_organization_id(self) -> int:
        chosen = self.chosen_organization_id() if len(self.reach) > 1 else None
        if chosen is not None:
            return chosen
        if self.memberships:
            return self.memberships[0].organization_id
        org = self.session.scalars(select(Organization.id).order_by(Organization.id)).first()
        if org is None:
            raise LookupError("Afisha has no organisation yet: run `afisha init`")
        return org

    def reaches(self, kind: Literal["post", "event"], record_id: int) -> bool:
        """Whether post or event `record_id` exists in a library the person reaches; if so,
        the turn acts in that library from now on."""
        record = self.session.get(Post if kind == "post" else Event, record_id)
        owner: int | None = getattr(record, "organization_id", None)
        if owner is None or owner not in self.reach:
            return False
        self.acting_id = owner
        return True

    def channels(self) -> list[Channel]:
        """The channels of the organisation acted on, by name."""
        return list(
            self.session.scalars(
                select(Channel)
                .where(Channel.organization_id == self.organization.id)
                .order_by(Channel.name)
            )
        )

    def check_conversation_channel(self, channel_id: int) -> None:
        """Act in the library of the conversation; InvalidInput if channel `channel_id` is not
        one of its channels (a forged button, or one of another library's conversation). A
        channel that does not exist is left to the flow to answer."""
        library = self.conversation.data.get(ORG_KEY)
        if library is not None:
            self.acting_id = library
        channel = self.session.get(Channel, channel_id)
        if channel is not None and channel.organization_id != self.organization.id:
            raise InvalidInput(
                "channel {channel} is not one of {library}'s channels: choose one of the "
                "channels shown",
                channel=channel.name,
                library=self.organization.name,
            )

    @property
    def tz(self) -> ZoneInfo:
        return zone(self.organization.timezone)

    def now(self) -> datetime:
        return self.services.clock.now()
