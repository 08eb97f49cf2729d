"""A content plan (.xlsx, .csv) or a calendar (.ics) sent to the bot is imported like
`afisha import`: every row checked first, nothing written when any row fails."""

from __future__ import annotations

import asyncio
import logging

from sqlalchemy import select

from bot.access import Permission
from bot.flows.approvals import ask_about_imported
from bot.router import Router
from bot.turn import Reply, Turn
from content.domain.states import ChannelStatus, Platform
from content.errors import InvalidInput
from content.i18n import N_, explain, translate
from content.plans.importing import Author, import_plan
from content.queueing.drafts import needs_approval
from content.storage.models import Channel

log = logging.getLogger(__name__)
KINDS = (".xlsx", ".csv", ".ics")
MOST_ERRORS = 20  # a chat message, not a log: the first problems are what a person can act on

routes = Router()


async def document(turn: Turn) -> None:
    incoming = turn.incoming
    name = incoming.document_name or "file"
    if not name.lower().endswith(KINDS) or incoming.document_path is None:
        turn.say(turn._("cannot import {name}: send an .xlsx, .csv or .ics file", name=name))
        return
    if not turn.may(Permission.EDIT):
        return
    data = incoming.document_path.read_bytes()  # the download is gone after this turn
    services, language, tz = turn.services, turn.language, turn.tz
    organization_id = turn.organization.id
    actor = f"staff:{incoming.user_id}"
    # The posts are the sender's, and wait for a manager as the sender's /new posts would.
    staff = turn.staff
    author = Author(
        staff.id if staff else None,
        needs_approval(turn.organization, turn.standing.role if turn.standing else None),
    )
    # New events from a calendar go to every active channel that can post text alone.
    calendar_channels = list(
        turn.session.scalars(
            select(Channel.name).where(
                Channel.organization_id == organization_id,
                Channel.status == ChannelStatus.ACTIVE,
                Channel.platform != Platform.INSTAGRAM,
            )
        )
    )
    turn.say(turn._("Importing {name}…", name=name))

    async def run() -> list[Reply]:
        try:
            report = await asyncio.to_thread(
                import_plan,
                services.sessions,
                organization_id,
                data,
                name,
                media_dir=services.media_dir,
                now=services.clock.now(),
                actor=actor,
                channels=calendar_channels,
                fetch=services.fetch_image,
                author=author,
            )
        except InvalidInput as err:
            return [Reply(explain(err, language))]
        if report.committed:
            services.queue_changed()
        asked: list[Reply] = []
        if report.committed and report.waiting:
            with services.sessions() as session:
                now = services.clock.now()
                asked = ask_about_imported(session, report.waiting, tz, now, language)
        message, params = report.summary(partial_option=False)  # no --partial here
        lines = [translate(language, message, **params)]
        lines += [error.explain(language) for error in report.errors[:MOST_ERRORS]]
        if len(report.errors) > MOST_ERRORS:
            lines.append(
                translate(
                    language,
                    N_("… and {count} more problem(s)"),
                    count=len(report.errors) - MOST_ERRORS,
                )
            )
        return [Reply("\n".join(lines)), *asked]

    turn.later.append(run)


routes.documents = document
