"""Instagram content publishing on the Graph API: containers, publishing, quota, media, insights.

A container is IN_PROGRESS for its processing time on the sandbox's clock (settings
`ig_image_processing_seconds`, `ig_carousel_processing_seconds`: a carousel is also never FINISHED
before all its items are), then FINISHED, or ERROR for one made to fail
(`ig_failing_containers`); unpublished 24 h after its creation it is EXPIRED. Polling does not
hurry it, as on the real platform.
"""

from __future__ import annotations

import re
import string
from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from sandbox import graph_errors as errors
from sandbox.graph_call import Call, graph_time, paginate, render, summary_edge
from sandbox.graph_media import download, identify
from sandbox.graph_spec import FieldRequest
from sandbox.graph_state import (
    BASIC_PERMISSION,
    CONTAINER_LIFETIME,
    IG_QUOTA_SECONDS,
    INSIGHTS_PERMISSION,
    GraphState,
    IgContainer,
    IgMedia,
    StoredImage,
)
from sandbox.ledger import LedgerItem

Handler = Callable[[GraphState, Call, str], Awaitable[Any]]

CONTAINER_ID_BASE = 17_900_000_000_000_000
MEDIA_ID_BASE = 17_950_000_000_000_000
CAPTION_MAX = 2200
HASHTAGS_MAX = 30
MENTIONS_MAX = 20
CAROUSEL_MIN, CAROUSEL_MAX = 2, 10
HASHTAG = re.compile(r"(?<!\w)#\w+")
MENTION = re.compile(r"(?<![\w@])@[\w.]+")

# For ERROR, Graph's `status` carries the error subcode (IG Container reference); which subcode
# an image that cannot be processed gets is a best guess.
ERROR_SUBCODE = 2207001
STATUS_TEXT = {
    "ERROR": f"Error: Media upload has failed with error code {ERROR_SUBCODE}",
    "IN_PROGRESS": "In Progress: Media is still being processed.",
    "FINISHED": "Finished: Media has been uploaded and it is ready to be published.",
    "PUBLISHED": "Published: Media has been published.",
    "EXPIRED": "Expired: Media was not published within 24 hours.",
}
MEDIA_METRICS = {
    "comments": ("Comments", "The number of comments on your post."),
    "likes": ("Likes", "The number of likes on your post."),
    "reach": ("Accounts reached", "The number of unique accounts that have seen your post."),
    "saved": ("Saved", "The number of saves of your post."),
    "shares": ("Shares", "The number of shares of your post."),
    "total_interactions": (
        "Post interactions",
        "The number of likes, saves, comments and "
        "shares on the post, minus the number of unlikes, unsaves and "
        "deleted comments.",
    ),
    "views": ("Views", "The number of times your post was viewed."),
}
COUNT_FIELDS = {"like_count", "comments_count", "insights"}
DEPRECATED_METRICS = (
    "impressions",
    "plays",
    "video_views",
    "clips_replays_count",
    "ig_reels_aggregated_all_plays_count",
)
# What Graph lists as valid in its "metric[i] must be one of" message, for media.
LISTED_METRICS = (
    "impressions reach replies saved likes comments shares total_interactions follows "
    "profile_visits profile_activity navigation ig_reels_video_view_total_time "
    "ig_reels_avg_watch_time views"
).split()


def _account(state: GraphState, ig_user_id: str) -> Any:
    return next(a for a in state.sandbox.fixtures.instagram if a.id == ig_user_id)


# --- containers -----------------------------------------------------------------------------------


def check_caption(caption: str) -> None:
    """Instagram's caption limits, with its error for each."""
    if len(caption) > CAPTION_MAX:
        raise errors.ig_caption_invalid(
            f"The caption exceeds the maximum length of {CAPTION_MAX} characters."
        )
    if len(HASHTAG.findall(caption)) > HASHTAGS_MAX:
        raise errors.ig_caption_invalid(f"The caption has more than {HASHTAGS_MAX} hashtags.")
    if len(MENTION.findall(caption)) > MENTIONS_MAX:
        raise errors.ig_caption_invalid(f"The caption has more than {MENTIONS_MAX} @ mentions.")


async def _fetch_jpeg(state: GraphState, url: str) -> StoredImage:
    data = await download(url)
    info = identify(data) if data is not None else None
    if data is None or info is None or info.format != "JPEG":
        raise errors.ig_media_fetch_failed(url)
    image = StoredImage(
        state.new_number(MEDIA_ID_BASE), data, info.content_type, info.width, info.height, url
    )
    state.images[image.id] = image
    return image


def _children(state: GraphState, call: Call, ig_user_id: str) -> list[str]:
    ids = [c.strip() for c in call.params.get("children", "").split(",") if c.strip()]
    if not CAROUSEL_MIN <= len(ids) <= CAROUSEL_MAX:
        raise errors.invalid_parameter(
            f"(#100) The param children must contain between {CAROUSEL_MIN} and "
            f"{CAROUSEL_MAX} media ids"
        )
    for child_id in ids:
        child = state.containers.get(child_id)
        if child is None or child.ig_user_id != ig_user_id or not child.is_carousel_item:
            raise errors.ig_media_not_found(child_id)
        if container_status(state, child) == "EXPIRED":
            raise errors.ig_expired()
    return ids


async def create_container(state: GraphState, call: Call, ig_user_id: str) -> dict[str, Any]:
    """POST /{ig-user-id}/media."""
    media_type = call.params.get("media_type", "IMAGE").upper()
    is_item = call.flag("is_carousel_item", False)
    caption = "" if is_item else call.params.get("caption", "")
    check_caption(caption)
    marker = state.settings.policy_marker
    if marker and marker in caption:
        raise errors.ig_spam_block()
    image: StoredImage | None = None
    children: list[str] = []
    if media_type == "CAROUSEL":
        children = _children(state, call, ig_user_id)
    elif media_type in ("IMAGE", "STORIES"):
        url = call.params.get("image_url")
        if not url:
            raise errors.invalid_parameter("(#100) The parameter image_url is required.")
        image = await _fetch_jpeg(state, url)
    else:
        raise errors.invalid_parameter(
            f"(#100) Param media_type must be one of {{IMAGE, CAROUSEL, STORIES}} in the "
            f"sandbox; got {media_type}"
        )
    settings = state.settings
    carousel = media_type == "CAROUSEL"
    fails = not carousel and settings.ig_failing_containers > 0
    if fails:
        settings.ig_failing_containers -= 1
    container = IgContainer(
        id=state.new_number(CONTAINER_ID_BASE),
        ig_user_id=ig_user_id,
        media_type=media_type,
        caption=caption,
        created_at=state.now(),
        image=image,
        children=children,
        is_carousel_item=is_item,
        processing_seconds=(
            settings.ig_carousel_processing_seconds
            if carousel
            else settings.ig_image_processing_seconds
        ),
        fails=fails,
    )
    state.containers[container.id] = container
    return {"id": container.id}


def container_status(state: GraphState, container: IgContainer) -> str:
    if container.published_media_id is not None:
        return "PUBLISHED"
    age = state.now() - container.created_at
    if age >= CONTAINER_LIFETIME:
        return "EXPIRED"
    if age < timedelta(seconds=container.processing_seconds):
        return "IN_PROGRESS"
    if container.fails:
        return "ERROR"
    items = [container_status(state, state.containers[c]) for c in container.children]
    if "ERROR" in items:
        return "ERROR"
    if "IN_PROGRESS" in items:
        return "IN_PROGRESS"
    return "FINISHED"


async def read_container(state: GraphState, call: Call, container_id: str) -> dict[str, Any]:
    container = state.containers[container_id]
    requests = call.fields("id")
    status = container_status(state, container)
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: container.id,
        "status_code": lambda: status,
        "status": lambda: STATUS_TEXT[status],
    }
    return render("ShadowIGMediaBuilder", container.id, requests, fields)


# --- publishing -----------------------------------------------------------------------------------


def quota_usage(state: GraphState, ig_user_id: str) -> int:
    since = state.now() - timedelta(seconds=IG_QUOTA_SECONDS)
    return sum(
        1 for m in state.media.values() if m.ig_user_id == ig_user_id and m.published_at > since
    )


def _shortcode(media_id: str) -> str:
    alphabet = string.ascii_letters + string.digits + "_-"
    number, code = int(media_id), ""
    while number:
        number, digit = divmod(number, len(alphabet))
        code = alphabet[digit] + code
    return code


async def publish(state: GraphState, call: Call, ig_user_id: str) -> dict[str, Any]:
    """POST /{ig-user-id}/media_publish?creation_id=..."""
    creation_id = call.params.get("creation_id", "")
    if not creation_id:
        raise errors.invalid_parameter("(#100) The parameter creation_id is required.")
    container = state.containers.get(creation_id)
    if container is None or container.ig_user_id != ig_user_id:
        raise errors.ig_media_not_found(creation_id)
    status = container_status(state, container)
    if status == "PUBLISHED":
        raise errors.ig_media_not_found(creation_id)
    if status == "EXPIRED":
        raise errors.ig_expired()
    if status != "FINISHED":
        raise errors.ig_not_ready()
    if container.is_carousel_item:
        raise errors.invalid_parameter(
            "(#100) A carousel item can only be published as part of a carousel"
        )
    if quota_usage(state, ig_user_id) >= state.ig_quota(ig_user_id):
        raise errors.ig_quota_reached()
    images = (
        [state.containers[c].image for c in container.children]
        if container.children
        else [container.image]
    )
    media_id = state.new_number(MEDIA_ID_BASE)
    media = IgMedia(
        id=media_id,
        ig_user_id=ig_user_id,
        container_id=container.id,
        media_type="CAROUSEL_ALBUM" if container.children else container.media_type,
        caption=container.caption,
        images=[i for i in images if i is not None],
        published_at=state.now(),
        shortcode=_shortcode(media_id),
    )
    container.published_media_id = media_id
    state.media[media_id] = media
    state.sandbox.ledger.record(
        LedgerItem(
            platform="instagram",
            target=ig_user_id,
            remote_id=media_id,
            text=media.caption,
            media_count=len(media.images),
            at=media.published_at,
        )
    )
    return {"id": media_id}


async def publishing_limit(state: GraphState, call: Call, ig_user_id: str) -> dict[str, Any]:
    """GET /{ig-user-id}/content_publishing_limit?fields=quota_usage,config."""
    requests = call.fields("quota_usage")
    fields: dict[str, Callable[[], Any]] = {
        "quota_usage": lambda: quota_usage(state, ig_user_id),
        "config": lambda: {
            "quota_total": state.ig_quota(ig_user_id),
            "quota_duration": IG_QUOTA_SECONDS,
        },
    }
    entry = render("ContentPublishingLimitResponse", "", requests, fields)
    entry.pop("id")  # this result has no id
    return {"data": [entry]}


# --- reading ------------------------------------------------------------------------------------


async def read_user(state: GraphState, call: Call, ig_user_id: str) -> dict[str, Any]:
    account = _account(state, ig_user_id)
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: account.id,
        "username": lambda: account.username,
        "name": lambda: account.username.replace("_", " ").title(),
        "media_count": lambda: len(state.ig_history(ig_user_id)),
        "followers_count": lambda: 900 + int(account.id[-3:]),
        "follows_count": lambda: 150,
        "is_published": lambda: True,
    }
    return render("IGUser", ig_user_id, call.fields("id"), fields)


def media_fields(
    state: GraphState, call: Call, media: IgMedia, requests: list[FieldRequest]
) -> dict[str, Any]:
    """An IGMedia with the requested fields; counts grow with sandbox time.

    A token without instagram_basic may publish here (a simplification) but not read counts.
    """
    if state.lacks(call.token, BASIC_PERMISSION) and any(r.name in COUNT_FIELDS for r in requests):
        raise errors.no_permission()
    counts = state.engagement(media.id, media.published_at)
    account = _account(state, media.ig_user_id)
    url = f"{state.sandbox.base_url}/graph-cdn/{media.images[0].id}" if media.images else None
    fields: dict[str, Callable[[], Any]] = {
        "id": lambda: media.id,
        "caption": lambda: media.caption or None,
        "media_type": lambda: "IMAGE" if media.media_type == "STORIES" else media.media_type,
        "media_product_type": lambda: "STORY" if media.media_type == "STORIES" else "FEED",
        "media_url": lambda: url,
        "permalink": lambda: f"https://www.instagram.com/p/{media.shortcode}/",
        "shortcode": lambda: media.shortcode,
        "timestamp": lambda: graph_time(media.published_at),
        "like_count": lambda: counts.reactions,
        "comments_count": lambda: counts.comments,
        "username": lambda: account.username,
        "owner": lambda: {"id": account.id},
        "is_comment_enabled": lambda: True,
        "is_shared_to_feed": lambda: media.media_type != "STORIES",
    }
    edges: dict[str, Callable[[FieldRequest], Any]] = {
        "children": lambda r: (
            {"data": [{"id": c.id} for c in media.images]}
            if media.media_type == "CAROUSEL_ALBUM"
            else {"data": []}
        ),
        "comments": lambda r: summary_edge("comments", 0, {}),
        "insights": lambda r: media_insights(state, call, media, r.modifiers.get("metric", "")),
    }
    return render("IGMedia", media.id, requests, fields, edges)


async def read_media(state: GraphState, call: Call, media_id: str) -> dict[str, Any]:
    return media_fields(state, call, state.media[media_id], call.fields("id"))


async def list_media(state: GraphState, call: Call, ig_user_id: str) -> dict[str, Any]:
    requests = call.fields("id")
    return paginate(
        call, state.ig_history(ig_user_id), lambda m: media_fields(state, call, m, requests)
    )


def media_insights(
    state: GraphState, call: Call, media: IgMedia, metric_param: str
) -> dict[str, Any]:
    if state.lacks(call.token, INSIGHTS_PERMISSION):
        raise errors.no_permission()
    names = [m.strip() for m in metric_param.split(",") if m.strip()]
    if not names:
        raise errors.invalid_parameter("(#100) The parameter metric is required")
    for index, name in enumerate(names):
        if name in DEPRECATED_METRICS:
            raise errors.ig_deprecated_metric(name)
        if name not in MEDIA_METRICS:
            raise errors.ig_invalid_metric(index, LISTED_METRICS)
    counts = state.engagement(media.id, media.published_at)
    values = {
        "comments": counts.comments,
        "likes": counts.reactions,
        "reach": counts.reach,
        "saved": counts.saves,
        "shares": counts.shares,
        "total_interactions": counts.reactions + counts.comments + counts.saves + counts.shares,
        "views": counts.views,
    }
    return {
        "data": [
            {
                "name": name,
                "period": "lifetime",
                "values": [{"value": values[name]}],
                "title": MEDIA_METRICS[name][0],
                "description": MEDIA_METRICS[name][1],
                "id": f"{media.id}/insights/{name}/lifetime",
            }
            for name in names
        ]
    }


async def read_media_insights(state: GraphState, call: Call, media_id: str) -> dict[str, Any]:
    return media_insights(state, call, state.media[media_id], call.params.get("metric", ""))


async def read_children(state: GraphState, call: Call, media_id: str) -> dict[str, Any]:
    media = state.media[media_id]
    if media.media_type != "CAROUSEL_ALBUM":
        return {"data": []}
    return {"data": [{"id": image.id} for image in media.images]}


async def delete_media(state: GraphState, call: Call, media_id: str) -> dict[str, Any]:
    state.media[media_id].deleted = True
    state.sandbox.ledger.remove("instagram", media_id)
    return {"success": True}


ROUTES: dict[tuple[str, str, str], Handler] = {
    ("ig_user", "GET", ""): read_user,
    ("ig_user", "POST", "media"): create_container,
    ("ig_user", "GET", "media"): list_media,
    ("ig_user", "POST", "media_publish"): publish,
    ("ig_user", "GET", "content_publishing_limit"): publishing_limit,
    ("container", "GET", ""): read_container,
    ("ig_media", "GET", ""): read_media,
    ("ig_media", "GET", "insights"): read_media_insights,
    ("ig_media", "GET", "children"): read_children,
    ("ig_media", "DELETE", ""): delete_media,
}
