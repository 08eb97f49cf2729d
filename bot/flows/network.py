"""The network report in the bot: offered under /report to a network head's managers (buttons
for PDF, XLSX and CSV), and sent by `/report network [YYYY-MM] [pdf|xlsx|csv]`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

from sqlalchemy import select

from bot.access import Permission
from bot.reports.files import network_report_file
from bot.router import STALE_BUTTON, Router
from bot.turn import Button, Keyboard, Turn
from content.analytics import labels
from content.analytics.network import is_network_head
from content.analytics.report import ReportFormat
from content.domain.callback_data import CallbackData
from content.domain.states import Role
from content.errors import InvalidInput
from content.storage.models import Organization, StaffMember

routes = Router()
Format = Literal["pdf", "xlsx", "csv"]


@dataclass(frozen=True)
class NetworkReportFile(CallbackData, prefix="report:network"):
    """Under a network head's monthly report: that month's network report in a format."""

    organization_id: int
    month: int  # 202611 for November 2026
    fmt: Format

    @classmethod
    def of(cls, org: Organization, month: date, fmt: Format) -> NetworkReportFile:
        return cls(org.id, month.year * 100 + month.month, fmt)

    @property
    def first_day(self) -> date | None:
        """The month's first day, or None if the number names no month."""
        year, month = divmod(self.month, 100)
        return date(year, month, 1) if 1970 <= year <= 9999 and 1 <= month <= 12 else None


def _heads_manager(turn: Turn, org: Organization) -> bool:
    """Whether the person is a manager or administrator of `org` itself (not only of a member)."""
    found = turn.session.scalar(
        select(StaffMember.id).where(
            StaffMember.organization_id == org.id,
            StaffMember.telegram_user_id == turn.incoming.user_id,
            StaffMember.role.in_((Role.MANAGER, Role.ADMIN)),
        )
    )
    return found is not None


def network_buttons(turn: Turn, org: Organization, month: date) -> Keyboard | None:
    """The buttons offering `org`'s network report on `month`, if the person may have it."""
    if not (is_network_head(turn.session, org) and _heads_manager(turn, org)):
        return None
    label = turn._("Network report")
    return [
        [
            Button(
                f"{label} · {fmt.value.upper()}",
                data=NetworkReportFile.of(org, month, fmt.value).pack(),
            )
            for fmt in ReportFormat
        ]
    ]


def send_network_report(turn: Turn, org: Organization, month: date, fmt: ReportFormat) -> None:
    """Send `org`'s network report, or refuse: not a head, or not one of its managers."""
    if not _heads_manager(turn, org):
        raise InvalidInput("only the managers of {name} may have its network report", name=org.name)
    name, contents = network_report_file(turn.session, org, month, turn.now(), fmt, turn.language)
    turn.say(
        turn._(
            "The network report of {library} for {month}.",
            library=org.name,
            month=labels.month_title(month, turn.language),
        ),
        document=(name, contents),
    )


@routes.button(NetworkReportFile, Permission.STATS)
async def network_report(turn: Turn, pressed: NetworkReportFile) -> None:
    org = turn.session.get(Organization, pressed.organization_id)
    month = pressed.first_day
    if org is None or month is None:
        turn.answer(turn._(STALE_BUTTON))
        return
    send_network_report(turn, org, month, ReportFormat(pressed.fmt))
