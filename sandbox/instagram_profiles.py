"""Public Instagram profiles that Afisha holds no token for (partner libraries), as the sandbox
seeds them: what a logged-out visitor of www.instagram.com sees."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sandbox.app import Sandbox

IMAGE, VIDEO = 1, 2  # Instagram's media_type numbers


@dataclass
class PublicPost:
    """A post of a profile the sandbox does not publish to."""

    pk: str
    shortcode: str
    media_type: int
    caption: str
    published_at: datetime
    counts_hidden: bool = False


@dataclass
class PublicProfile:
    pk: str
    username: str
    full_name: str
    is_private: bool = False
    posts: list[PublicPost] = field(default_factory=list)


def _post(
    pk: int, code: str, media_type: int, caption: str, at: datetime, hidden: bool = False
) -> PublicPost:
    return PublicPost(str(pk), code, media_type, caption, at, hidden)


def seed_public_profiles(sandbox: Sandbox) -> dict[str, PublicProfile]:
    """Two partner libraries (one post hides its counts) and a private one, by username."""
    now = sandbox.clock.now()
    hours = [now - timedelta(hours=h) for h in (2, 26, 74, 200)]
    district = PublicProfile(
        "17841400000000101",
        "district_library",
        "District Library",
        posts=[
            _post(3300000000000000101, "DistPost01", IMAGE, "Book fair", hours[0]),
            _post(3300000000000000102, "DistPost02", VIDEO, "Author talk", hours[1]),
            _post(3300000000000000103, "DistPost03", IMAGE, "Quiet hours", hours[2], True),
            _post(3300000000000000104, "DistPost04", IMAGE, "Chess club", hours[3]),
        ],
    )
    village = PublicProfile(
        "17841400000000102",
        "village_reading_room",
        "Village Reading Room",
        posts=[
            _post(3300000000000000201, "VillPost01", IMAGE, "New books", hours[0]),
            _post(3300000000000000202, "VillPost02", VIDEO, "Story time", hours[2], True),
        ],
    )
    private = PublicProfile("17841400000000103", "closed_library", "Closed Library", True)
    return {p.username: p for p in (district, village, private)}
