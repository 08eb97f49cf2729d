"""Facebook Pages: posting to the feed, photos, reading posts, engagement, insights, deleting."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sandbox import graph_errors as errors
from sandbox.graph_call import Call, graph_time, paginate, render, summary_edge
from sandbox.graph_errors import GraphError
from sandbox.graph_media import download, identify
from sandbox.graph_spec import FieldRequest
from sandbox.graph_state import GraphState, PagePost, StoredImage, UnpublishedPhoto

Handler = Callable[[GraphState, Call, str], Awaitable[Any]]

SCHEDULE_MIN = timedelta(minutes=10)
SCHEDULE_MAX = timedelta(days=75)
POST_ID_BASE = 1_220_000_000_000_000
PHOTO_ID_BASE = 1_230_000_000_000_000
ATTACHED = re.compile(r"^attached_media\[(\d+)\]$")
_PERMALINK = re.compile(r"https://www\.facebook\.com/(?P<page>\d+)/posts/(?P<number>\d+)/?")

# Current post metrics; the deprecated ones (post_impressions*, post_engaged_users ...) are
# simply absent, so they get Graph's "must be a valid insights metric".
POST_METRICS: dict[str, tuple[str, str]] = {
    "post_media_view": (
        "Lifetime Post Media Views",
        "Lifetime: The number of times your post was on screen.",
    ),
    "post_total_media_view_unique": (
        "Lifetime Post Total Media Viewers",
        "Lifetime: The number of people who saw your post.",
    ),
    "post_reactions_by_type_total": (
        "Lifetime Total post Reactions by Type.",
        "Lifetime: Total post reactions by type.",
    ),
    "post_reactions_like_total": ("Lifetime Like Reactions", "Lifetime: Likes on a post."),
    "post_clicks": (
        "Lifetime Post Clicks",
        "Lifetime: The number of times people clicked on "
        "anywhere in your posts without generating a story.",
    ),
    "post_clicks_by_type": (
        "Lifetime Post Clicks by Type",
        "Lifetime: Clicks on your post, broken down by type.",
    ),
}


# --- the Page node ------------------------------------------------------------------------------


async def read_page(state: GraphState, call: Call, page_id: str) -> dict[str, Any]:
    page = next(p for p in state.sandbox.fixtures.pages if p.id == page_id)
    ig = next((a for a in state.sandbox.fixtures.instagram if a.page_id == page_id), None)
    followers = 1200 + int(page_id[-3:])
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: page.id,
        "name": lambda: page.name,
        "category": lambda: "Library",
        "link": lambda: f"https://www.facebook.com/{page.id}",
        "fan_count": lambda: followers,
        "followers_count": lambda: followers,
        "instagram_business_account": lambda: {"id": ig.id} if ig else None,
    }
    return render("Page", page_id, call.fields("name,id"), fields)


async def list_posts(state: GraphState, call: Call, page_id: str) -> dict[str, Any]:
    requests = call.fields("created_time,message,id")
    posts = state.page_history(page_id)
    return paginate(call, posts, lambda post: post_fields(state, post, requests))


async def list_scheduled(state: GraphState, call: Call, page_id: str) -> dict[str, Any]:
    requests = call.fields("created_time,message,id")
    posts = state.scheduled_posts(page_id)
    return paginate(call, posts, lambda post: post_fields(state, post, requests))


# --- publishing ---------------------------------------------------------------------------------


def _check_policy(state: GraphState, *texts: str) -> None:
    marker = state.settings.policy_marker
    if marker and any(marker in text for text in texts):
        raise errors.policy_block()


def _parse_schedule(raw: str) -> datetime:
    try:
        if raw.isdigit():
            return datetime.fromtimestamp(int(raw), UTC)
        moment = datetime.fromisoformat(raw)
    except (ValueError, OverflowError):
        raise errors.invalid_scheduled_time() from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _attached_photos(state: GraphState, call: Call, page_id: str) -> list[UnpublishedPhoto]:
    slots = sorted(
        (int(m.group(1)), value) for key, value in call.params.items() if (m := ATTACHED.match(key))
    )
    photos: list[UnpublishedPhoto] = []
    for index, raw in slots:
        try:
            fbid = str(json.loads(raw)["media_fbid"])
        except (ValueError, KeyError, TypeError):
            raise errors.invalid_parameter(
                f"(#100) param attached_media[{index}] must be a JSON object with media_fbid"
            ) from None
        photo = state.photos.get(fbid)
        if photo is None or photo.page_id != page_id or photo.attached_to is not None:
            raise errors.invalid_parameter(
                f"(#100) param attached_media[{index}] has an invalid media_fbid: {fbid}"
            )
        photos.append(photo)
    return photos


def permalink(post_id: str) -> str:
    """A Page post's permalink_url."""
    page_id, _, number = post_id.partition("_")
    return f"https://www.facebook.com/{page_id}/posts/{number}"


def _shared_post(state: GraphState, link: str | None) -> str | None:
    """The id of the visible Page post whose permalink `link` is (a share), if any."""
    match = _PERMALINK.fullmatch(link or "")
    if match is None:
        return None
    post = state.posts.get(f"{match['page']}_{match['number']}")
    return post.id if post is not None and post.visible else None


def _is_duplicate(state: GraphState, page_id: str, message: str, link: str | None) -> bool:
    since = state.now() - timedelta(seconds=state.settings.duplicate_window_seconds)
    return any(
        p.page_id == page_id
        and p.visible
        and p.kind == "post"
        and not p.photos
        and p.message == message
        and p.link == link
        and p.created_at >= since
        for p in state.posts.values()
    )


async def create_post(state: GraphState, call: Call, page_id: str) -> dict[str, Any]:
    """POST /{page-id}/feed."""
    require_page_token(state, call, page_id)
    message = call.params.get("message", "")
    link = call.params.get("link") or None
    published = call.flag("published", True)
    raw_schedule = call.params.get("scheduled_publish_time")
    photos = _attached_photos(state, call, page_id)
    if not message and not link and not photos:
        raise errors.invalid_parameter("(#100) Missing message or attachment")
    scheduled_at = None
    if raw_schedule:
        if published:
            raise errors.scheduled_on_published()
        scheduled_at = _parse_schedule(raw_schedule)
        ahead = scheduled_at - state.now()
        if not SCHEDULE_MIN <= ahead <= SCHEDULE_MAX:
            raise errors.invalid_scheduled_time()
    _check_policy(state, message)
    if published and not photos and message and _is_duplicate(state, page_id, message, link):
        raise errors.duplicate_status()
    post = PagePost(
        id=f"{page_id}_{state.new_number(POST_ID_BASE)}",
        page_id=page_id,
        message=message,
        created_at=state.now(),
        link=link,
        parent_id=_shared_post(state, link),
        photos=[p.image for p in photos],
        published=published,
        scheduled_at=scheduled_at,
    )
    for photo in photos:
        photo.attached_to = post.id
    state.posts[post.id] = post
    if published:
        state.record(post)
    return {"id": post.id}


def require_page_token(state: GraphState, call: Call, page_id: str) -> None:
    """Only the Page's own token may publish as the Page."""
    page = next(p for p in state.sandbox.fixtures.pages if p.id == page_id)
    if call.require().token != page.access_token:
        raise GraphError(
            200,
            "(#200) If posting to a page, requires both pages_read_engagement and "
            "pages_manage_posts as an admin with sufficient administrative permission",
            status=403,
        )


async def _image_from_call(state: GraphState, call: Call) -> StoredImage:
    source_url = call.params.get("url")
    data = call.files.get("source")
    if data is None and source_url:
        data = await download(source_url)
    if data is None and not source_url:
        raise GraphError(324, "(#324) Requires upload file")
    info = identify(data) if data is not None else None
    if data is None or info is None:
        raise errors.invalid_image_file()
    image = StoredImage(
        id=state.new_number(PHOTO_ID_BASE),
        data=data,
        content_type=info.content_type,
        width=info.width,
        height=info.height,
        source_url=source_url,
    )
    state.images[image.id] = image
    return image


async def upload_photo(state: GraphState, call: Call, page_id: str) -> dict[str, Any]:
    """POST /{page-id}/photos: a published photo post, or an upload to attach later."""
    require_page_token(state, call, page_id)
    caption = call.params.get("caption") or call.params.get("message", "")
    published = call.flag("published", True)
    if published:
        _check_policy(state, caption)
    image = await _image_from_call(state, call)
    if not published:
        state.photos[image.id] = UnpublishedPhoto(image.id, page_id, image, caption, state.now())
        return {"id": image.id}
    post = PagePost(
        id=f"{page_id}_{image.id}",
        page_id=page_id,
        message=caption,
        created_at=state.now(),
        photos=[image],
        kind="photo",
    )
    state.posts[post.id] = post
    state.photo_posts[image.id] = post.id
    state.record(post)
    return {"id": image.id, "post_id": post.id}


# --- reading posts and photos -------------------------------------------------------------------


def cdn_url(state: GraphState, image: StoredImage) -> str:
    return f"{state.sandbox.base_url}/graph-cdn/{image.id}"


def post_fields(state: GraphState, post: PagePost, requests: list[FieldRequest]) -> dict[str, Any]:
    """A PagePost with the requested fields and edges (engagement grows with sandbox time)."""
    counts = state.engagement(post.id, post.created_at)
    page_id, _, number = post.id.partition("_")
    page = next(p for p in state.sandbox.fixtures.pages if p.id == page_id)
    picture = cdn_url(state, post.photos[0]) if post.photos else None
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: post.id,
        "message": lambda: post.message or None,
        "created_time": lambda: graph_time(post.created_at),
        "updated_time": lambda: graph_time(post.created_at),
        "permalink_url": lambda: permalink(post.id),
        "parent_id": lambda: post.parent_id,
        "is_published": lambda: post.published,
        "is_hidden": lambda: False,
        "is_expired": lambda: False,
        "from": lambda: {"name": page.name, "id": page.id},
        "full_picture": lambda: picture,
        "picture": lambda: picture,
        "shares": lambda: {"count": counts.shares} if counts.shares else None,
        "status_type": lambda: (
            "added_photos"
            if post.photos
            else "shared_story"
            if post.link
            else "mobile_status_update"
        ),
        "scheduled_publish_time": lambda: (
            float(post.scheduled_at.timestamp()) if post.scheduled_at else None
        ),
    }
    edges: dict[str, Callable[[FieldRequest], Any]] = {
        "reactions": lambda r: summary_edge("reactions", counts.reactions, r.modifiers),
        "likes": lambda r: summary_edge("likes", counts.reactions, r.modifiers),
        "comments": lambda r: summary_edge("comments", counts.comments, r.modifiers),
        "insights": lambda r: post_insights(state, post, r.modifiers.get("metric", "")),
    }
    return render("PagePost", post.id, requests, fields, edges)


async def read_post(state: GraphState, call: Call, post_id: str) -> dict[str, Any]:
    post = state.posts[post_id]
    return post_fields(state, post, call.fields("created_time,message,id"))


async def read_photo(state: GraphState, call: Call, photo_id: str) -> dict[str, Any]:
    post_id = state.photo_posts.get(photo_id)
    image = state.images[photo_id]
    post = state.posts[post_id] if post_id else None
    unpublished = state.photos.get(photo_id)
    created = post.created_at if post else unpublished.created_at if unpublished else state.now()
    caption = post.message if post else unpublished.caption if unpublished else ""
    url = cdn_url(state, image)
    source = {"height": image.height, "width": image.width, "source": url}
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: photo_id,
        "created_time": lambda: graph_time(created),
        "updated_time": lambda: graph_time(created),
        "name": lambda: caption or None,
        "height": lambda: image.height,
        "width": lambda: image.width,
        "images": lambda: [source],
        "picture": lambda: url,
        "link": lambda: f"https://www.facebook.com/photo.php?fbid={photo_id}",
        "page_story_id": lambda: post_id,
        "can_delete": lambda: True,
    }
    counts = state.engagement(post_id, created) if post_id else None
    edges: dict[str, Callable[[FieldRequest], Any]] = {
        "likes": lambda r: summary_edge("likes", counts.reactions if counts else 0, r.modifiers),
        "comments": lambda r: summary_edge(
            "comments", counts.comments if counts else 0, r.modifiers
        ),
    }
    return render("Photo", photo_id, call.fields("created_time,name,id"), fields, edges)


async def read_post_edge(state: GraphState, call: Call, post_id: str) -> dict[str, Any]:
    """GET /{post-id}/reactions|comments|likes with `summary=` and `limit=` parameters."""
    edge = call.path[1]
    post = state.posts[post_id]
    counts = state.engagement(post.id, post.created_at)
    total = counts.comments if edge == "comments" else counts.reactions
    return summary_edge(edge, total, dict(call.params))


# --- insights -----------------------------------------------------------------------------------


def post_insights(state: GraphState, post: PagePost, metric_param: str) -> dict[str, Any]:
    names = [m.strip() for m in metric_param.split(",") if m.strip()]
    if not names:
        raise errors.invalid_parameter("(#100) The parameter metric is required")
    if any(name not in POST_METRICS for name in names):
        raise errors.invalid_insights_metric()
    counts = state.engagement(post.id, post.created_at)
    like = counts.reactions - counts.reactions // 4
    values: dict[str, Any] = {
        "post_media_view": counts.views,
        "post_total_media_view_unique": counts.reach,
        "post_reactions_by_type_total": {"like": like, "love": counts.reactions - like}
        if counts.reactions
        else {},
        "post_reactions_like_total": like,
        "post_clicks": counts.reactions + counts.comments + counts.shares + counts.saves,
        "post_clicks_by_type": {"other clicks": counts.reactions + counts.comments}
        if counts.reactions + counts.comments
        else {},
    }
    return {
        "data": [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "title": POST_METRICS[name][0],
                "description": POST_METRICS[name][1],
                "id": f"{post.id}/insights/{name}/lifetime",
            }
            for name in names
        ]
    }


async def read_post_insights(state: GraphState, call: Call, post_id: str) -> dict[str, Any]:
    post = state.posts[post_id]
    return post_insights(state, post, call.params.get("metric", ""))


# --- deleting -----------------------------------------------------------------------------------


async def delete_post(state: GraphState, call: Call, object_id: str) -> dict[str, Any]:
    """DELETE /{post-id} or /{photo-id}: gone from the Page and from the ledger."""
    post_id = state.photo_posts.get(object_id, object_id)
    post = state.posts.get(post_id)
    if post is None:  # an unpublished upload
        state.photos.pop(object_id, None)
        return {"success": True}
    require_page_token(state, call, post.page_id)
    post.deleted = True
    state.sandbox.ledger.remove("facebook", post.id)
    return {"success": True}


ROUTES: dict[tuple[str, str, str], Handler] = {
    ("page", "GET", ""): read_page,
    ("page", "GET", "feed"): list_posts,
    ("page", "GET", "posts"): list_posts,
    ("page", "GET", "published_posts"): list_posts,
    ("page", "GET", "scheduled_posts"): list_scheduled,
    ("page", "POST", "feed"): create_post,
    ("page", "POST", "photos"): upload_photo,
    ("post", "GET", ""): read_post,
    ("post", "GET", "insights"): read_post_insights,
    ("post", "GET", "reactions"): read_post_edge,
    ("post", "GET", "comments"): read_post_edge,
    ("post", "GET", "likes"): read_post_edge,
    ("post", "DELETE", ""): delete_post,
    ("photo", "GET", ""): read_photo,
    ("photo", "DELETE", ""): delete_post,
}
