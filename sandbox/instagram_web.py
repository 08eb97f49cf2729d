"""www.instagram.com as a logged-out visitor sees it, served at `<base>/instagram-web/`: what
instaloader 4.16 asks for to read public posts and profiles (reference/platform-apis.md §6).

- `GET /` the start page: the `LSD` token and `IG_USER_EIMU` in a script, a `csrftoken` cookie;
- `POST /api/graphql` with `doc_id` 27128499623469141 and `variables` `{"shortcode"}`, the `lsd`
  token from the start page: `xdt_api__v1__media__shortcode__web_info` (an unknown shortcode
  gives no items); any other query 400;
- `GET /{username}/` a profile page embedding `xig_user_by_username` (the details, and the
  first posts as `polaris_ordered_timeline_connection`, none of a private profile), only to a
  browser's page navigation (`Sec-Fetch-Mode: navigate`); an unknown username 404.

Profiles are the sandbox's Instagram accounts (their published media) and the seeded partner
libraries of `instagram_profiles`. A post whose owner hid its counts carries
`like_and_view_counts_disabled: true` and a `like_count` of 0 (what a visitor is told; a best
guess at the exact value), so a reader that trusts `like_count` reads 0. Faults: operation
`public_web` (`429` answers Instagram's "Please wait a few minutes"); the ledger counts
`instagram_web.start`, `.graphql` and `.profile`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.graph_state import GraphState, graph_state
from sandbox.instagram_profiles import IMAGE, VIDEO, PublicPost, PublicProfile

if TYPE_CHECKING:
    from sandbox.app import Sandbox

PREFIX = "/instagram-web"
POST_QUERY = "27128499623469141"
LSD_TOKEN = "AVq-sandbox-lsd"  # noqa: S105 - a form token the public web hands everyone
CSRF_TOKEN = "sandboxcsrf000000000000000000000"  # noqa: S105 - likewise
TIMELINE_FIRST = 12
START_PAGE = (
    "<!DOCTYPE html><html><head><title>Instagram</title></head><body>"
    f'<script>{{"define":[["LSD",[],{{"token":"{LSD_TOKEN}"}},323]]}}'
    '{"IG_USER_EIMU":"0"}</script></body></html>'
)
NOT_FOUND_PAGE = (
    "<!DOCTYPE html><html><body><h2>Sorry, this page isn't available.</h2></body></html>"
)


@dataclass(frozen=True)
class Visible:
    """A post as the public web shows it, whichever kind of profile owns it."""

    pk: str
    shortcode: str
    media_type: int
    caption: str
    published_at: datetime
    counts_hidden: bool
    owner_pk: str
    owner_username: str


def _own_profiles(state: GraphState) -> dict[str, tuple[PublicProfile, list[Visible]]]:
    profiles: dict[str, tuple[PublicProfile, list[Visible]]] = {}
    for account in state.sandbox.fixtures.instagram:
        profile = PublicProfile(account.id, account.username, account.username.title())
        posts = [
            Visible(
                m.id,
                m.shortcode,
                8 if m.media_type == "CAROUSEL_ALBUM" else IMAGE,
                m.caption,
                m.published_at,
                m.counts_hidden,
                account.id,
                account.username,
            )
            for m in state.ig_history(account.id)
            if m.media_type != "STORIES"
        ]
        profiles[account.username] = (profile, posts)
    return profiles


def _partner(profile: PublicProfile, post: PublicPost) -> Visible:
    return Visible(
        post.pk,
        post.shortcode,
        post.media_type,
        post.caption,
        post.published_at,
        post.counts_hidden,
        profile.pk,
        profile.username,
    )


def profiles(state: GraphState) -> dict[str, tuple[PublicProfile, list[Visible]]]:
    """Every public profile by username, with its posts newest first."""
    found = _own_profiles(state)
    for username, profile in state.public_profiles.items():
        posts = sorted(profile.posts, key=lambda p: p.published_at, reverse=True)
        found[username] = (profile, [_partner(profile, p) for p in posts])
    return found


def _by_shortcode(state: GraphState, shortcode: str) -> Visible | None:
    for _, posts in profiles(state).values():
        for post in posts:
            if post.shortcode == shortcode:
                return post
    return None


def web_info(state: GraphState, post: Visible) -> dict[str, Any]:
    """The item of `xdt_api__v1__media__shortcode__web_info`, trimmed to what readers use."""
    counts = state.engagement(post.pk, post.published_at)
    item: dict[str, Any] = {
        "code": post.shortcode,
        "pk": post.pk,
        "id": f"{post.pk}_{post.owner_pk}",
        "media_type": post.media_type,
        "taken_at": int(post.published_at.timestamp()),
        "user": {"pk": post.owner_pk, "username": post.owner_username, "full_name": ""},
        "like_count": 0 if post.counts_hidden else counts.reactions,
        "comment_count": counts.comments,
        "like_and_view_counts_disabled": post.counts_hidden,
        "caption": {"text": post.caption} if post.caption else None,
        "image_versions2": {"candidates": [{"url": "https://scontent.cdninstagram.com/p.jpg"}]},
    }
    if post.media_type == VIDEO:
        item["video_versions"] = [{"url": "https://scontent.cdninstagram.com/v.mp4"}]
        item["view_count"] = None if post.counts_hidden else counts.views
        item["play_count"] = None if post.counts_hidden else counts.views
    return item


def _profile_page(state: GraphState, profile: PublicProfile, posts: list[Visible]) -> str:
    details = {
        "pk": profile.pk,
        "id": f"profile-{profile.pk}",
        "username": profile.username,
        "full_name": profile.full_name,
        "is_private": profile.is_private,
        "all_media_count": len(posts),
        "follower_count": 300 + int(profile.pk[-3:]),
        "following_count": 80,
    }
    timeline = {
        "pk": profile.pk,
        "id": f"profile-{profile.pk}",
        "polaris_ordered_timeline_connection": {
            "edges": [{"node": {"code": p.shortcode, "pk": p.pk}} for p in posts[:TIMELINE_FIRST]],
            "page_info": {"has_next_page": False, "end_cursor": None},
        },
    }
    queries = [details] if profile.is_private else [details, timeline]
    scripts = "".join(
        '<script type="application/json" data-sjs>'
        + json.dumps({"__bbox": {"result": {"data": {"xig_user_by_username": q}}}}).replace(
            "</", "<\\/"
        )
        + "</script>"
        for q in queries
    )
    return f"<!DOCTYPE html><html><head><title>@{profile.username}</title></head><body>{scripts}"


def _json(status: int, payload: Any) -> web.Response:
    return web.json_response(payload, status=status)


def _throttled() -> web.Response:
    wait = "Please wait a few minutes before you try again."
    return _json(429, {"message": wait, "status": "fail"})


def add_routes(app: web.Application, sandbox: Sandbox) -> None:
    """Register the public web's routes."""

    async def start(request: web.Request) -> web.StreamResponse:
        sandbox.ledger.count_call("instagram_web", "start")
        if sandbox.faults.draw("public_web") == "429":
            return _throttled()
        response = web.Response(text=START_PAGE, content_type="text/html")
        response.set_cookie("csrftoken", CSRF_TOKEN, path="/")
        return response

    async def graphql(request: web.Request) -> web.StreamResponse:
        sandbox.ledger.count_call("instagram_web", "graphql")
        if sandbox.faults.draw("public_web") == "429":
            return _throttled()
        form = await request.post()
        if form.get("lsd") != LSD_TOKEN:
            return _json(400, {"message": "A valid lsd token is required", "status": "fail"})
        if form.get("doc_id") != POST_QUERY:
            return _json(400, {"message": "Unsupported query", "status": "fail"})
        try:
            variables = json.loads(str(form.get("variables", "")))
            shortcode = str(variables["shortcode"])
        except (ValueError, KeyError, TypeError):
            return _json(400, {"message": "variables must name a shortcode", "status": "fail"})
        state = graph_state(sandbox)
        post = _by_shortcode(state, shortcode)
        items = [web_info(state, post)] if post is not None else []
        return _json(200, {"data": {"xdt_api__v1__media__shortcode__web_info": {"items": items}}})

    async def profile_page(request: web.Request) -> web.StreamResponse:
        sandbox.ledger.count_call("instagram_web", "profile")
        if sandbox.faults.draw("public_web") == "429":
            return _throttled()
        state = graph_state(sandbox)
        found = profiles(state).get(request.match_info["username"].lower())
        if found is None:
            return web.Response(text=NOT_FOUND_PAGE, status=404, content_type="text/html")
        if request.headers.get("Sec-Fetch-Mode") != "navigate":
            # Instagram embeds the data only in a browser's page navigation.
            return web.Response(text="<html><body></body></html>", content_type="text/html")
        return web.Response(text=_profile_page(state, *found), content_type="text/html")

    app.router.add_get(f"{PREFIX}/", start)
    app.router.add_post(f"{PREFIX}/api/graphql", graphql)
    app.router.add_get(f"{PREFIX}/{{username:[A-Za-z0-9._]+}}/", profile_page)
