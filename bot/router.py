"""Routing a turn to its handler: commands, the current conversation step, button presses.

Each flow module has a `Router` of its own at module level, its buttons' payloads declared
next to their handlers; `bot.flows.build_router` gathers them. A button's data is read here,
once: data that is not exactly one of our payloads gets the one stale-button reply, and no
handler sees it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from bot.access import Permission, Standing, allowed
from bot.turn import Turn
from content.domain.callback_data import SEPARATOR, CallbackData, InvalidCallbackData
from content.errors import NotFound
from content.i18n import N_
from content.storage.models import Channel, Event, Organization, Post, Publication

Handler = Callable[[Turn], Awaitable[None]]
P = TypeVar("P", bound=CallbackData)
ButtonHandler = Callable[[Turn, P], Awaitable[None]]
# Asks a person on several libraries' staff which one a command is for (bot.flows.library).
Chooser = Callable[[Turn, "Command", list[Standing]], None]
STALE_BUTTON = N_("This button is no longer in use.")
K = TypeVar("K")
V = TypeVar("V")


def _merge(mine: dict[K, V], theirs: dict[K, V]) -> None:
    taken = mine.keys() & theirs.keys()
    if taken:
        raise ValueError(f"routes registered twice: {sorted(map(str, taken))}")
    mine.update(theirs)


@dataclass(frozen=True)
class Command:
    name: str
    handler: Handler
    permission: Permission
    description: str  # a catalog message, shown in the command menu
    menu: bool = True
    # Acts on one library's data: someone who reaches several chooses which (once, remembered).
    per_organization: bool = False


@dataclass(frozen=True)
class StepRoute:
    """A conversation step: what a person's next message means while they are in it."""

    handler: Handler
    permission: Permission


@dataclass(frozen=True)
class ButtonRoute:
    payload: type[CallbackData]
    handler: ButtonHandler[Any]
    permission: Permission


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    steps: dict[tuple[str, str], StepRoute] = field(default_factory=dict)
    buttons: dict[str, ButtonRoute] = field(default_factory=dict)  # by payload prefix
    # A file sent outside any conversation (a content plan to import).
    documents: Handler | None = None
    # What a flow does with its unfinished work when another command takes over (e.g. /new
    # keeps its post as a draft); without one, the conversation just ends.
    interruptions: dict[str, Callable[[Turn], None]] = field(default_factory=dict)
    chooser: Chooser | None = None

    def command(
        self,
        name: str,
        permission: Permission,
        description: str,
        *,
        menu: bool = True,
        per_organization: bool = False,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands[name] = Command(
                name, handler, permission, description, menu, per_organization
            )
            return handler

        return register

    def step(self, flow: str, step: str, permission: Permission) -> Callable[[Handler], Handler]:
        """Register a conversation step, with the permission each message in it needs."""

        def register(handler: Handler) -> Handler:
            self.steps[(flow, step)] = StepRoute(handler, permission)
            return handler

        return register

    def button(
        self, payload: type[P], permission: Permission
    ) -> Callable[[ButtonHandler[P]], ButtonHandler[P]]:
        """Register the handler of the buttons carrying `payload`."""

        def register(handler: ButtonHandler[P]) -> ButtonHandler[P]:
            if payload.prefix in self.buttons:
                raise ValueError(f"two handlers for the buttons {payload.prefix!r}")
            self.buttons[payload.prefix] = ButtonRoute(payload, handler, permission)
            return handler

        return register

    def _button_route(self, data: str) -> ButtonRoute | None:
        """The route whose prefix is the longest one `data` starts with (whole parts only)."""
        parts = data.split(SEPARATOR)
        for end in range(len(parts), 0, -1):
            route = self.buttons.get(SEPARATOR.join(parts[:end]))
            if route is not None:
                return route
        return None

    async def _press(self, turn: Turn, data: str) -> None:
        route = self._button_route(data)
        if route is None:
            turn.answer(turn._(STALE_BUTTON))
            return
        if not turn.may_anywhere(route.permission):
            turn.require(route.permission)  # in no library they reach: the role refusal
            return
        try:
            payload = route.payload.unpack(data)
        except InvalidCallbackData:
            turn.answer(turn._(STALE_BUTTON))
            return
        if route.permission is not Permission.PUBLIC:
            # What the button names decides the library acted on, and the role that counts.
            owner = owner_of(turn, payload)
            if owner is not None:
                turn.act_in(owner)
        if not turn.require(route.permission):
            return
        await route.handler(turn, payload)

    def include(self, other: Router) -> None:
        """Add a flow module's routes; a name registered twice is a mistake, not an override."""
        _merge(self.commands, other.commands)
        _merge(self.steps, other.steps)
        _merge(self.buttons, other.buttons)
        _merge(self.interruptions, other.interruptions)
        if other.chooser is not None:
            if self.chooser is not None:
                raise ValueError("two flows choose the organisation")
            self.chooser = other.chooser
        if other.documents is not None:
            if self.documents is not None:
                raise ValueError("two flows take documents")
            self.documents = other.documents

    def menu_for(self, turn: Turn) -> list[Command]:
        return [c for c in self.commands.values() if c.menu and turn.may_anywhere(c.permission)]

    def _settle_organization(self, turn: Turn, command: Command) -> bool:
        """Decide the library `command` acts on; False if the person was asked to choose."""
        able = [s for s in turn.reach.values() if allowed(s, command.permission)]
        if len(able) <= 1 or self.chooser is None:
            if able:
                turn.act_in(able[0].organization.id)
            return True  # one library (or none: the role refusal follows)
        chosen = turn.chosen_organization_id()
        if chosen is not None and any(s.organization.id == chosen for s in able):
            turn.act_in(chosen)
            return True
        if turn.conversation.active:
            keep = self.interruptions.get(turn.conversation.flow)
            if keep is not None:
                keep(turn)
            turn.conversation.end()
        self.chooser(turn, command, able)
        return False

    async def run_command(self, turn: Turn, name: str) -> None:
        """Run command `name` in the library the turn acts on (after the person chose it)."""
        command = self.commands.get(name)
        if command is not None and turn.require(command.permission):
            await command.handler(turn)

    async def route(self, turn: Turn) -> None:
        """Every update passes here, with `turn.staff` as the person is now: each command,
        button and conversation step is allowed or refused by that, not by the role a
        conversation began with."""
        incoming, conversation = turn.incoming, turn.conversation
        if not turn.memberships and conversation.active:
            conversation.end()  # taken off the staff: their unfinished conversations go too
        if incoming.callback_data is not None:
            await self._press(turn, incoming.callback_data)
            return
        if incoming.command == "cancel":
            was_active = conversation.active
            conversation.end()
            turn.say(
                turn._("Cancelled. Nothing was saved.")
                if was_active
                else turn._("There is nothing to cancel.")
            )
            return
        if incoming.command is not None:
            command = self.commands.get(incoming.command)
            if command is None and not turn.memberships:
                turn.require(Permission.EDIT)  # strangers hear who to ask, not our command list
            elif command is None:
                turn.say(
                    turn._("I do not know the command /{command}. Send /help to see what I can do.",
                           command=incoming.command)
                )  # fmt: skip
            elif command.per_organization and not self._settle_organization(turn, command):
                pass  # asked which library it is for: the choice runs the command
            elif turn.require(command.permission):
                if conversation.active:
                    keep = self.interruptions.get(conversation.flow)
                    if keep is not None:
                        keep(turn)
                    conversation.end()  # a new command starts afresh
                first = len(turn.replies)
                await command.handler(turn)
                if command.per_organization and len(turn.reach) > 1:
                    _head(turn, first)
            return
        if conversation.active:
            step = self.steps.get((conversation.flow, conversation.step))
            if step is None:
                conversation.end()
                turn.say(turn._("That conversation has ended. Send /help to start again."))
            elif turn.require(step.permission):
                await step.handler(turn)
            else:
                conversation.end()  # begun under a role they no longer have
            return
        if not turn.memberships:
            turn.require(Permission.EDIT)  # the polite refusal with the person's id
        elif incoming.document_path is not None and self.documents is not None:
            if _plan_library(turn) and turn.require(Permission.EDIT):
                first = len(turn.replies)
                await self.documents(turn)
                if len(turn.reach) > 1:
                    _head(turn, first)
        else:
            turn.say(turn._("Send /new to prepare a post, or /help to see everything I can do."))


def owner_of(turn: Turn, payload: CallbackData) -> int | None:
    """The organisation of the post, event, channel, publication or organisation `payload`
    names; NotFound, as for an id that does not exist, if the person may not reach it.

    None if it names none, or one that does not exist (its handler says so in its words)."""
    named = [
        (field, getattr(payload, field))
        for field in ("post_id", "event_id", "publication_id", "channel_id", "organization_id")
        if isinstance(getattr(payload, field, None), int)
    ]
    if not named:
        return None
    field, record_id = named[0]
    owner = _owner(turn, field, record_id)
    if owner is None:
        return None
    if owner not in turn.reach:
        refusal = NOT_REACHED[field]
        raise NotFound(refusal, id=record_id)
    return owner


NOT_REACHED = {
    "post_id": N_("no post has id {id}"),
    "event_id": N_("no event has id {id}"),
    "publication_id": N_("no publication has id {id}"),
    "channel_id": N_(
        "channel #{id} is not a channel of a library you work for: choose one of the channels shown"
    ),
    "organization_id": N_("no organisation has id {id}"),
}


def _owner(turn: Turn, field: str, record_id: int) -> int | None:
    session = turn.session
    if field == "post_id":
        post = session.get(Post, record_id)
        return post.organization_id if post is not None else None
    if field == "event_id":
        event = session.get(Event, record_id)
        return event.organization_id if event is not None else None
    if field == "publication_id":
        publication = session.get(Publication, record_id)
        return publication.channel.organization_id if publication is not None else None
    if field == "channel_id":
        channel = session.get(Channel, record_id)
        return channel.organization_id if channel is not None else None
    organization = session.get(Organization, record_id)
    return organization.id if organization is not None else None


def _plan_library(turn: Turn) -> bool:
    """Decide the library a plan sent as a file is for: the only one, or the chosen one; with
    several and none chosen, say how to choose (False)."""
    able = [s.organization.id for s in turn.reach.values() if allowed(s, Permission.EDIT)]
    chosen = turn.chosen_organization_id()
    if len(able) > 1 and chosen not in able:
        turn.say(
            turn._(
                "You work for several libraries: choose the one this plan is for with "
                "/library, then send the file again. Nothing was imported."
            )
        )
        return False
    if able:
        turn.act_in(chosen if chosen in able else able[0])
    return True


def _head(turn: Turn, first: int) -> None:
    """Name the library a flow acts in atop its first message to the person."""
    for reply in turn.replies[first:]:
        if reply.chat_id is None or reply.chat_id == turn.incoming.chat_id:
            reply.text = f"{turn.library_header()}\n\n{reply.text}"
            return
