"""/library: which library a person on several libraries' staff works in; and the question a
command that acts on one library asks them, once, before it runs."""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import Permission, Standing, allowed
from bot.router import Command, Router
from bot.turn import Button, Keyboard, Turn
from content.domain.callback_data import CallbackData
from content.errors import NotFound
from content.i18n import N_

routes = Router()
LIBRARY = "library"


@dataclass(frozen=True)
class UseOrganization(CallbackData, prefix="org"):
    """Work in this organisation, then run `command` there (or just switch, for /library)."""

    organization_id: int
    command: str


def _keyboard(turn: Turn, able: list[Standing], command: str) -> Keyboard:
    current = turn.chosen_organization_id()
    return [
        [
            Button(
                ("✅ " if s.organization.id == current else "") + s.organization.name,
                data=UseOrganization(s.organization.id, command).pack(),
            )
        ]
        for s in able
    ]


def ask_which(turn: Turn, command: Command, able: list[Standing]) -> None:
    """Ask which library `command` is for; the answer is remembered (see /library), and the
    command then runs with what was typed after it (e.g. /stats 30d)."""
    turn.conversation.start(LIBRARY, "choose", command=command.name, args=turn.incoming.args)
    turn.say(
        turn._(
            "You work for several libraries. Which one is /{command} for? I will remember "
            "your choice; /library changes it.",
            command=command.name,
        ),
        _keyboard(turn, able, command.name),
    )


routes.chooser = ask_which


@routes.command(LIBRARY, Permission.EDIT, N_("Choose the library you work in"))
async def library(turn: Turn) -> None:
    able = list(turn.reach.values())
    if len(able) <= 1:
        turn.say(turn._("You work for {name} only.", name=turn.organization.name))
        return
    turn.say(
        turn._(
            "You work in {name} now. Choose the library your next /new, /queue, /event, "
            "/stats and /report are for:",
            name=turn.organization.name,
        ),
        _keyboard(turn, able, LIBRARY),
    )


@routes.button(UseOrganization, Permission.EDIT)
async def chosen(turn: Turn, pressed: UseOrganization) -> None:
    # The router refused an organisation the person does not reach; one that does not exist:
    if pressed.organization_id not in turn.reach:
        raise NotFound("no organisation has id {id}", id=pressed.organization_id)
    if pressed.command == LIBRARY:
        turn.choose_organization(pressed.organization_id)
        turn.edit(
            turn._(
                "🏛 You work in {name} now: /new, /queue, /event, /stats and /report are for "
                "it. /library changes it.",
                name=turn.organization.name,
            )
        )
        return
    command = turn.router.commands.get(pressed.command)
    if command is None or not command.per_organization:
        raise NotFound("no command /{command}", command=pressed.command)
    if not allowed(turn.standing, command.permission):
        turn.require(command.permission)
        return
    turn.choose_organization(pressed.organization_id)
    conversation = turn.conversation
    if conversation.flow == LIBRARY and conversation.data.get("command") == command.name:
        turn.incoming.args = str(conversation.data.get("args") or "")
    conversation.end()
    turn.edit(turn.library_header())
    await turn.router.run_command(turn, command.name)


@routes.step(LIBRARY, "choose", Permission.EDIT)
async def typed_instead(turn: Turn) -> None:
    turn.say(turn._("Press one of the buttons above to choose the library, or send /cancel."))
