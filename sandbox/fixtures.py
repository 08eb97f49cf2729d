"""The sandbox's seeded accounts: a bot, channels, Facebook Pages, Instagram accounts, staff."""

from __future__ import annotations

import random
import string
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class TelegramChat:
    id: int
    type: str  # channel | group | supergroup | private
    title: str
    username: str | None = None
    bot_is_admin: bool = True


@dataclass
class FacebookPage:
    id: str
    name: str
    access_token: str


@dataclass
class InstagramAccount:
    id: str
    username: str
    page_id: str
    access_token: str


@dataclass
class Fixtures:
    """Everything a client needs to talk to the sandbox; deterministic under the seed."""

    bot_id: int
    bot_username: str
    bot_token: str
    chats: list[TelegramChat]
    pages: list[FacebookPage]
    instagram: list[InstagramAccount]
    staff_user_id: int
    follower_user_id: int
    app_id: str
    revoked_tokens: set[str] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["revoked_tokens"] = sorted(self.revoked_tokens)
        return data


def _secret(rng: random.Random, length: int) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(rng.choice(alphabet) for _ in range(length))


def make_fixtures(seed: int) -> Fixtures:
    rng = random.Random(seed)
    bot_id = 7_000_000_000 + rng.randrange(1_000_000)
    return Fixtures(
        bot_id=bot_id,
        bot_username="afisha_sandbox_bot",
        bot_token=f"{bot_id}:AA{_secret(rng, 33)}",
        chats=[
            TelegramChat(-1001000000001, "channel", "Library News", "library_news"),
            TelegramChat(-1001000000002, "channel", "Library Events", "library_events"),
            TelegramChat(-1001000000003, "channel", "Reading Club", "reading_club", False),
            TelegramChat(-1001000000004, "supergroup", "Library Staff", None),
        ],
        pages=[
            FacebookPage("100200300400500", "Regional Library", "EAA" + _secret(rng, 60)),
            FacebookPage("100200300400501", "Children's Library", "EAA" + _secret(rng, 60)),
        ],
        instagram=[
            InstagramAccount(
                "17841400000000001", "regional_library", "100200300400500", "EAA" + _secret(rng, 60)
            ),
        ],
        staff_user_id=500000001,
        follower_user_id=500000002,
        app_id=str(rng.randrange(10**14, 10**15)),
    )
