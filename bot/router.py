"""Routing a turn to its handler: commands, the current conversation step, button presses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TypeVar

from bot.access import Permission
from bot.turn import Turn

Handler = Callable[[Turn], Awaitable[None]]
CallbackHandler = Callable[[Turn, list[str]], Awaitable[None]]
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


@dataclass
class Router:
    commands: dict[str, Command] = field(default_factory=dict)
    steps: dict[tuple[str, str], Handler] = field(default_factory=dict)
    callbacks: dict[str, tuple[CallbackHandler, Permission]] = field(default_factory=dict)
    # A file sent outside any conversation (a content plan to import).
    documents: Handler | None = None
    # What a flow does with its unfinished work when another command takes over (e.g. /new
    # keeps its post as a draft); without one, the conversation just ends.
    interruptions: dict[str, Callable[[Turn], None]] = field(default_factory=dict)

    def command(
        self, name: str, permission: Permission, description: str, *, menu: bool = True
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.commands[name] = Command(name, handler, permission, description, menu)
            return handler

        return register

    def step(self, flow: str, step: str) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.steps[(flow, step)] = handler
            return handler

        return register

    def callback(
        self, prefix: str, permission: Permission
    ) -> Callable[[CallbackHandler], CallbackHandler]:
        def register(handler: CallbackHandler) -> CallbackHandler:
            self.callbacks[prefix] = (handler, permission)
            return handler

        return register

    def include(self, other: Router) -> None:
        """Add a flow module's routes; a name registered twice is a mistake, not an override."""
        _merge(self.commands, other.commands)
        _merge(self.steps, other.steps)
        _merge(self.callbacks, other.callbacks)
        _merge(self.interruptions, other.interruptions)
        if other.documents is not None:
            if self.documents is not None:
                raise ValueError("two flows take documents")
            self.documents = other.documents

    def menu_for(self, turn: Turn) -> list[Command]:
        return [c for c in self.commands.values() if c.menu and turn.may(c.permission)]

    async def route(self, turn: Turn) -> None:
        incoming, conversation = turn.incoming, turn.conversation
        if incoming.callback_data is not None:
            prefix, *args = incoming.callback_data.split(":")
            entry = self.callbacks.get(prefix)
            if entry is None:
                turn.answer(turn._("This button is no longer in use."))
            elif turn.require(entry[1]):
                await entry[0](turn, args)
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
            if command is None and turn.staff is None:
                turn.require(Permission.EDIT)  # strangers hear who to ask, not our command list
            elif command is None:
                turn.say(
                    turn._("I do not know the command /{command}. Send /help to see what I can do.",
                           command=incoming.command)
                )  # fmt: skip
            elif turn.require(command.permission):
                if conversation.active:
                    keep = self.interruptions.get(conversation.flow)
                    if keep is not None:
                        keep(turn)
                    conversation.end()  # a new command starts afresh
                await command.handler(turn)
            return
        if conversation.active:
            handler = self.steps.get((conversation.flow, conversation.step))
            if handler is None:
                conversation.end()
                turn.say(turn._("That conversation has ended. Send /help to start again."))
            elif turn.require(Permission.EDIT):
                await handler(turn)
            return
        if turn.staff is None:
            turn.require(Permission.EDIT)  # the polite refusal with the person's id
        elif incoming.document_path is not None and self.documents is not None:
            if turn.require(Permission.EDIT):
                await self.documents(turn)
        else:
            turn.say(turn._("Send /new to prepare a post, or /help to see everything I can do."))
