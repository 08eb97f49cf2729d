"""`afisha partner`: partner libraries' public Instagram accounts, followed without a token."""

from __future__ import annotations

from typing import Any

import click

from afisha.cli_support import ACTOR, State, emit_json, org_option, pass_state
from afisha.views import iso, local
from channels.instagram_public import AccountPrivate, AccountUnknown, InstaloaderCollector
from content.analytics import labels
from content.analytics.partners import PartnerSummary, partner_summaries
from content.errors import InvalidInput
from content.storage import partners
from content.storage.organizations import choose_organization, organizations


def summary_json(found: PartnerSummary) -> dict[str, Any]:
    """A partner as plain data: every hidden or unknown count is null, never 0."""
    return {
        "organization": found.organization,
        "username": found.username,
        "full_name": found.full_name,
        "checked_at": iso(found.checked_at),
        "last_error": found.last_error,
        "totals": {
            "posts": found.totals.publications,
            **{
                m: {"value": found.totals[m].value, "known": found.totals[m].known}
                for m in ("reactions", "comments", "views")
            },
        },
        "posts": [
            {
                "shortcode": p.shortcode,
                "url": f"https://www.instagram.com/p/{p.shortcode}/",
                "posted_at": iso(p.posted_at),
                "caption": p.caption,
                "reactions": p.reactions,
                "comments": p.comments,
                "views": p.views,
                "collected_at": iso(p.collected_at),
                "source": p.source,
            }
            for p in found.posts
        ],
    }


def _count(found: PartnerSummary, metric: str, lang: str) -> str:
    total = found.totals[metric]
    shown = labels.total(total, lang)
    if 0 < total.known < found.totals.publications or (
        total.known == 0 and found.totals.publications
    ):
        shown += f" ({total.known}/{found.totals.publications})"
    return shown


def register(cli: click.Group) -> None:
    @cli.group()
    def partner() -> None:
        """Partner libraries' public Instagram accounts, read without a token."""

    @partner.command("add")
    @click.argument("username")
    @org_option
    @pass_state
    def partner_add(state: State, username: str, org_name: str | None) -> None:
        """Follow a public Instagram account (checked on Instagram first)."""
        afisha = state.afisha
        with afisha.transaction(org_name) as (session, org):
            checked = partners.check_new_partner(session, org, username)
        reader = InstaloaderCollector(afisha.settings.instagram_web_url)
        try:
            account = reader.read_account(checked, limit=0)
        except AccountUnknown:
            raise InvalidInput(
                "no Instagram account is named {username}: check the name on the library's "
                "Instagram page",
                username=checked,
            ) from None
        except AccountPrivate:
            raise InvalidInput(
                "the Instagram account {username} is private: Afisha can follow public "
                "accounts only",
                username=checked,
            ) from None
        finally:
            reader.close()
        with afisha.transaction(org_name) as (session, org):
            added = partners.add_partner(session, org, checked, account.full_name, ACTOR)
            click.echo(f"following {added.username} for {org.name}")

    @partner.command("list")
    @org_option
    @click.option("--json", "as_json", is_flag=True, help="Print JSON.")
    @pass_state
    def partner_list(state: State, org_name: str | None, as_json: bool) -> None:
        """List the partner accounts followed (by every organisation unless --org)."""
        afisha = state.afisha
        # Without --org, every organisation's: a list needs no choosing.
        with afisha.sessions() as session:
            chosen = (
                [choose_organization(session, org_name)] if org_name else organizations(session)
            )
            found = partner_summaries(session, [o.id for o in chosen])
            if as_json:
                emit_json([summary_json(f) for f in found])
                return
            lang = afisha.settings.language
            for item in found:
                checked = local(item.checked_at, afisha.tz)
                error = f"  ({item.last_error})" if item.last_error else ""
                click.echo(
                    f"{item.username:<30} {item.organization:<24} {checked:<22} "
                    f"posts {item.totals.publications}, likes {_count(item, 'reactions', lang)}, "
                    f"comments {_count(item, 'comments', lang)}{error}"
                )

    @partner.command("remove")
    @click.argument("username")
    @org_option
    @pass_state
    def partner_remove(state: State, username: str, org_name: str | None) -> None:
        """Stop following a partner account (its posts' counts go with it)."""
        with state.afisha.transaction(org_name) as (session, org):
            partners.remove_partner(session, org, username, ACTOR)
            click.echo(f"no longer following {partners.check_username(username)} for {org.name}")
