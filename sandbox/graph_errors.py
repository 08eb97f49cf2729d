"""Graph API errors in Meta's shape: `{"error": {"message", "type", "code", ...}}`.

Wording and codes follow Meta's error-handling guide, the Instagram error-code table and error
bodies quoted in public issue threads; where the wording is a best guess the docstring says so.
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass, field
from typing import Any

GRAPH_DOCS = "https://developers.facebook.com/docs/graph-api"
RATE_LIMIT_DOCS = "https://developers.facebook.com/docs/graph-api/overview/rate-limiting"


@dataclass
class GraphError(Exception):
    """One Graph API error; raise it from a handler and the router answers with its body."""

    code: int
    message: str
    type: str = "OAuthException"
    subcode: int | None = None
    status: int = 400
    transient: bool | None = None
    user_title: str | None = None
    user_msg: str | None = None
    headers: dict[str, str] = field(default_factory=dict)

    def body(self, rng: random.Random) -> dict[str, Any]:
        error: dict[str, Any] = {"message": self.message, "type": self.type, "code": self.code}
        if self.subcode is not None:
            error["error_subcode"] = self.subcode
        if self.transient is not None:
            error["is_transient"] = self.transient
        if self.user_title is not None:
            error["error_user_title"] = self.user_title
        if self.user_msg is not None:
            error["error_user_msg"] = self.user_msg
        error["fbtrace_id"] = "A" + "".join(
            rng.choice(string.ascii_letters + string.digits + "-_") for _ in range(22)
        )
        return {"error": error}


def invalid_parameter(message: str = "Invalid parameter") -> GraphError:
    """Code 100; callers pass Graph's own wording, usually prefixed "(#100)"."""
    return GraphError(100, message)


def nonexisting_field(name: str, node_type: str) -> GraphError:
    return GraphError(
        100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})"
    )


def unsupported_request(method: str, object_id: str) -> GraphError:
    """The answer for an unknown id, or one the token may not see (subcode 33)."""
    return GraphError(
        100,
        f"Unsupported {method.lower()} request. Object with ID '{object_id}' does not exist, "
        "cannot be loaded due to missing permissions, or does not support this operation. "
        f"Please read the Graph API documentation at {GRAPH_DOCS}",
        type="GraphMethodException",
        subcode=33,
    )


def unknown_path(components: str) -> GraphError:
    return GraphError(2500, f"Unknown path components: /{components}")


def missing_token() -> GraphError:
    return GraphError(104, "An access token is required to request this resource.")


def invalid_token() -> GraphError:
    return GraphError(190, "Invalid OAuth access token - Cannot parse access token")


def revoked_token() -> GraphError:
    """Subcode 467: the token was invalidated (logged out, app removed, revoked)."""
    return GraphError(
        190,
        "Error validating access token: The session is invalid because the user logged out.",
        subcode=467,
    )


def expired_token(expired_at: str, now: str) -> GraphError:
    """Subcode 463: the token's session has expired."""
    return GraphError(
        190,
        f"Error validating access token: Session has expired on {expired_at}. "
        f"The current time is {now}.",
        subcode=463,
    )


def deprecated_version(latest: str) -> GraphError:
    return GraphError(
        2635,
        "(#2635) You are calling a deprecated version of the Graph API. "
        f"Please update to the latest version: {latest}.",
    )


def unknown_error(code: int) -> GraphError:
    """The transient server-side failures (codes 1 and 2), answered with HTTP 500."""
    message = (
        "An unknown error has occurred."
        if code == 1
        else "An unexpected error has occurred. Please retry your request later."
    )
    return GraphError(code, message, status=500, transient=True)


THROTTLE_MESSAGES = {
    4: "(#4) Application request limit reached",
    17: "(#17) User request limit reached",
    32: "(#32) Page request limit reached",
    613: "(#613) Calls to this api have exceeded the rate limit.",
    80001: "(#80001) There have been too many calls to this Page account. Wait a bit and try "
    f"again. For more info, please refer to {RATE_LIMIT_DOCS}.",
    80002: "(#80002) There have been too many calls to this Instagram account. Wait a bit and try "
    f"again. For more info, please refer to {RATE_LIMIT_DOCS}.",
}


def throttled(code: int) -> GraphError:
    """A rate-limit error; code 4 comes with HTTP 403 in the logs we found, the others with 400."""
    return GraphError(
        code, THROTTLE_MESSAGES[code], status=403 if code == 4 else 400, transient=True
    )


def duplicate_status() -> GraphError:
    return GraphError(506, "(#506) Duplicate status message")


def policy_block() -> GraphError:
    return GraphError(
        368, "(#368) The action attempted has been deemed abusive or is otherwise disallowed"
    )


def invalid_insights_metric() -> GraphError:
    return GraphError(100, "(#100) The value must be a valid insights metric")


def no_permission() -> GraphError:
    """Code 10, what Graph answers a token granted without a permission the call needs (here:
    instagram_manage_insights for media insights); Meta's error-handling guide names the code,
    the wording is the one quoted in public issue threads."""
    return GraphError(10, "(#10) Application does not have permission for this action")


def batch_too_large() -> GraphError:
    """The wording facebook-sdk's own test suite uses for a batch of more than 50 requests."""
    return GraphError(
        1,
        "Too many requests in batch message. Maximum batch size is 50",
        type="GraphBatchException",
    )


def invalid_scheduled_time() -> GraphError:
    return GraphError(100, "(#100) The specified scheduled publish time is invalid.")


def scheduled_on_published() -> GraphError:
    return GraphError(100, "(#100) You cannot specify a scheduled publish time on a published post")


def invalid_image_file() -> GraphError:
    """Facebook Pages' answer when `url` or `source` is not an image it can read."""
    return GraphError(324, "(#324) Missing or invalid image file")


# --- Instagram content publishing (codes from the IG error-code table) -------------------------


def ig_media_fetch_failed(url: str) -> GraphError:
    """9004/2207052: the image could not be downloaded or is not a JPEG."""
    return GraphError(
        9004,
        "Only photo or video can be accepted as media type.",
        subcode=2207052,
        transient=False,
        user_title="Media download has failed.",
        user_msg=f"The media could not be fetched from this uri: {url}",
    )


def ig_caption_invalid(detail: str) -> GraphError:
    """2207010 for captions over the length, hashtag or @-mention limits (subcode: best guess)."""
    return GraphError(
        100,
        "Invalid parameter",
        subcode=2207010,
        transient=False,
        user_title="Caption is invalid",
        user_msg=detail,
    )


def ig_not_ready() -> GraphError:
    return GraphError(
        9007,
        "Media ID is not available",
        subcode=2207027,
        transient=False,
        user_title="Media not ready for publishing",
        user_msg="The media is not ready for publishing, please wait for a moment",
    )


def ig_expired() -> GraphError:
    return GraphError(
        -2,
        "The media you are trying to access has expired. Please try to upload again.",
        subcode=2207020,
        transient=False,
        user_title="Media expired",
        user_msg="The media you are trying to access has expired. Please try to upload again.",
    )


def ig_media_not_found(media_id: str) -> GraphError:
    """24/2207006, also given for a container that was already published (best guess)."""
    return GraphError(
        24,
        "The requested resource does not exist",
        subcode=2207006,
        transient=False,
        user_title="Media not found",
        user_msg=f"The media with id {media_id} cannot be found.",
    )


def ig_quota_reached() -> GraphError:
    return GraphError(
        9,
        "Application request limit reached",
        subcode=2207042,
        transient=False,
        user_title="Cannot publish post",
        user_msg="You reached maximum number of posts that is allowed to be published by "
        "Content Publishing API.",
    )


def ig_spam_block() -> GraphError:
    """2207051 really comes with code 4, the same code as app throttling."""
    return GraphError(
        4,
        "Application request limit reached",
        subcode=2207051,
        transient=False,
        user_title="Action is blocked",
        user_msg="We restrict certain activity to protect our community. Tell us if you think we "
        "made a mistake.",
    )


def ig_invalid_metric(index: int, valid: list[str]) -> GraphError:
    return GraphError(
        100, f"(#100) metric[{index}] must be one of the following values: {', '.join(valid)}"
    )


def ig_deprecated_metric(metric: str) -> GraphError:
    return GraphError(
        100,
        f"(#100) Starting from version v22.0 and above, the {metric} metric is no longer "
        "supported for the queried media.",
    )
