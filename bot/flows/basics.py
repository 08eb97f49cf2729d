"""/start, /help, /lang: what everyone may use."""

from __future__ import annotations

from dataclasses import dataclass

from bot.access import Permission
from bot.flows.upcoming import reminder_reply
from bot.router import Router
from bot.turn import Button, Turn
from content.domain.callback_data import REMIND_START, CallbackData, read_remind_start
from content.domain.languages import LANGUAGES
from content.i18n import N_
from content.queueing.followers import request_reminder

routes = Router()


@dataclass(frozen=True)
class ChooseLanguage(CallbackData, prefix="lang"):
    code: str

    def __post_init__(self) -> None:
        if self.code not in LANGUAGES:
            raise ValueError(f"no language {self.code!r}")


@routes.command("start", Permission.PUBLIC, N_("Start"), menu=False)
async def start(turn: Turn) -> None:
    if turn.incoming.args.startswith(REMIND_START):
        # Opened from "Remind me" (t.me/<bot>?start=remind-<id>): the reminder asked for.
        event_id = read_remind_start(turn.incoming.args.strip())
        if event_id is None:
            turn.say(turn._("This event is over or was cancelled."))
            return
        result, event = request_reminder(
            turn.session, event_id, turn.incoming.user_id, turn.language, turn.now()
        )
        turn.say(reminder_reply(turn, result, event))
        return
    if turn.staff is None:
        turn.say(
            turn._(
                "Hello! I publish the library's news and events. Send /events to see "
                "what is coming up."
            )
        )
        return
    turn.say(
        turn._(
            "Hello, {name}! I publish the library's posts and events to its channels. "
            "Send /new to prepare a post or /help to see everything I can do.",
            name=turn.staff.name,
        )
    )


@routes.command("help", Permission.PUBLIC, N_("What I can do"))
async def help_(turn: Turn) -> None:
    lines = [turn._("What I can do:")]
    lines += [f"/{c.name} — {turn._(c.description)}" for c in turn.router.menu_for(turn)]
    lines.append("/cancel — " + turn._("Stop the current conversation"))
    turn.say("\n".join(lines))


@routes.command("lang", Permission.PUBLIC, N_("Choose your language"))
async def lang(turn: Turn) -> None:
    turn.say(
        turn._("Choose your language:"),
        [[Button(name, data=ChooseLanguage(code).pack()) for code, name in LANGUAGES.items()]],
    )


@routes.button(ChooseLanguage, Permission.PUBLIC)
async def chosen(turn: Turn, choice: ChooseLanguage) -> None:
    code = choice.code
    for membership in turn.memberships:  # one person, one language in every library
        membership.language = code
    turn.language = code
    turn.edit(turn._("I will speak {language} with you.", language=LANGUAGES[code]))
