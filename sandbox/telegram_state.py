"""The Telegram emulator's world: users, chats, message history, files, updates and the webhook.

Lives in `sandbox.parts["telegram"]` and is only touched from the sandbox's event loop (from
another thread, go through `SandboxThread.call`). Other code injects what users do here:
`inject_message`, `inject_photo`, `inject_callback`, and reads what chats show with
`chat_history`.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import re
from typing import TYPE_CHECKING, Any

import aiohttp

from sandbox.engagement import engagement_at
from sandbox.fixtures import TelegramChat
from sandbox.ledger import LedgerItem
from sandbox.telegram_errors import (
    BLOCKED_BY_USER,
    CANT_INITIATE,
    CHAT_NOT_FOUND,
    NOT_CHANNEL_MEMBER,
    bad_request,
    forbidden,
)
from sandbox.telegram_flood import FloodControl
from sandbox.telegram_html import utf16_len
from sandbox.telegram_media import FileStore
from sandbox.telegram_objects import CallbackQuery, StoredMessage, TgUser, Webhook
from sandbox.telegram_spec import load_spec

if TYPE_CHECKING:
    from sandbox.app import Sandbox

log = logging.getLogger(__name__)

# Update kinds a bot gets unless it asks for them (Bot API, getUpdates.allowed_updates).
NOT_BY_DEFAULT = ("chat_member", "message_reaction", "message_reaction_count")
# How reactions on a channel post split between emoji, most popular first.
REACTION_SHARES = (("👍", 0.6), ("❤", 0.3), ("🔥", 0.1))
WEBHOOK_RETRY_SECONDS = 0.5
_COMMAND = re.compile(r"(?<!\S)/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{5,32})?")


def all_update_kinds() -> list[str]:
    return [f["name"] for f in load_spec()["types"]["Update"]["fields"] if f["name"] != "update_id"]


class TelegramState:
    """Everything the Telegram emulator remembers between calls; `reset` forgets it all."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox
        self.flood = FloodControl()
        self.files = FileStore(sandbox.seed)
        self._delivery: asyncio.Task[None] | None = None
        self._changed: asyncio.Event | None = None
        self.reset()

    # -- lifecycle -----------------------------------------------------------------------------

    def reset(self) -> None:
        fixtures = self.sandbox.fixtures
        self.bot = TgUser(fixtures.bot_id, "Afisha Sandbox", fixtures.bot_username, is_bot=True)
        self.users: dict[int, TgUser] = {
            fixtures.staff_user_id: TgUser(fixtures.staff_user_id, "Staff", "library_staff"),
            fixtures.follower_user_id: TgUser(fixtures.follower_user_id, "Follower", "reader_one"),
        }
        # Telegram lets a bot write to a person only after they started it, and not once they
        # blocked it: the fixtures' people have started it already; anyone else starts it by
        # writing to it (inject_message) and may block it (block_bot).
        self.started: set[int] = {fixtures.staff_user_id, fixtures.follower_user_id}
        self.blocked: set[int] = set()
        self.chats: dict[int, TelegramChat] = {c.id: c for c in fixtures.chats}
        self.history: dict[int, list[StoredMessage]] = {}
        self._next_message_id: dict[int, int] = {}
        self.files.seed = self.sandbox.seed
        self.files.reset()
        self.flood.reset()
        self.updates: list[dict[str, Any]] = []
        self.next_update_id = 100_000_000 + self.sandbox.seed % 1000 * 1000
        self.allowed_updates: list[str] = []
        self.webhook: Webhook | None = None
        self.poll_generation = 0
        self.commands: dict[str, list[dict[str, str]]] = {}
        self.callback_queries: dict[str, CallbackQuery] = {}
        self._media_groups = 0
        self._cancel_delivery()
        self._notify()

    async def close(self, _app: object = None) -> None:
        """Stop delivering to the webhook (the app's on_cleanup)."""
        task = self._cancel_delivery()
        if task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- chats ---------------------------------------------------------------------------------

    def resolve_chat(self, raw: str | int | None) -> dict[str, Any]:
        """The Chat object for a chat_id parameter (number or @username), or the real error."""
        if isinstance(raw, str) and raw.startswith("@"):
            name = raw[1:].lower()
            for chat in self.chats.values():
                if chat.username and chat.username.lower() == name:
                    return self.chat_json(chat.id)
            raise bad_request(CHAT_NOT_FOUND)
        try:
            chat_id = int(raw)  # type: ignore[arg-type]
        except (TypeError, ValueError):
            raise bad_request(CHAT_NOT_FOUND) from None
        if chat_id not in self.chats and chat_id not in self.users:
            raise bad_request(CHAT_NOT_FOUND)
        return self.chat_json(chat_id)

    def chat_json(self, chat_id: int) -> dict[str, Any]:
        if chat_id in self.users:
            user = self.users[chat_id]
            data: dict[str, Any] = {"id": user.id, "type": "private", "first_name": user.first_name}
            if user.username:
                data["username"] = user.username
            return data
        chat = self.chats[chat_id]
        data = {"id": chat.id, "type": chat.type, "title": chat.title}
        if chat.username:
            data["username"] = chat.username
        return data

    def require_posting(self, chat: dict[str, Any]) -> None:
        """Telegram's answer when the bot may not post in (or change) the chat."""
        if chat["type"] == "private":
            if chat["id"] in self.blocked:
                raise forbidden(BLOCKED_BY_USER)
            if chat["id"] not in self.started:
                raise forbidden(CANT_INITIATE)
            return
        fixture = self.chats.get(chat["id"])
        if fixture is not None and not fixture.bot_is_admin:
            raise forbidden(NOT_CHANNEL_MEMBER)

    def is_group(self, chat: dict[str, Any]) -> bool:
        return chat["type"] != "private"

    def user(self, user_id: int) -> TgUser:
        """A user, made up on first sight (a follower who found the bot)."""
        if user_id not in self.users:
            self.users[user_id] = TgUser(user_id, f"User {user_id}")
        return self.users[user_id]

    # -- messages ------------------------------------------------------------------------------

    def new_message(
        self, chat: dict[str, Any], sender: TgUser | None, **content: Any
    ) -> StoredMessage:
        """Store a message in its chat's history."""
        chat_id = chat["id"]
        message_id = self._next_message_id.get(chat_id, 1)
        self._next_message_id[chat_id] = message_id + 1
        now = self.sandbox.clock.now()
        message = StoredMessage(message_id, chat, int(now.timestamp()), now, sender, **content)
        self.history.setdefault(chat_id, []).append(message)
        return message

    def bot_sender(self, chat: dict[str, Any]) -> TgUser | None:
        return None if chat["type"] == "channel" else self.bot

    def new_media_group_id(self) -> str:
        self._media_groups += 1
        digest = hashlib.sha256(f"{self.sandbox.seed}:album:{self._media_groups}".encode())
        return str(int.from_bytes(digest.digest()[:7], "big"))

    def record_published(self, messages: list[StoredMessage]) -> None:
        """One ledger item for what followers now see: a message, a photo, or a whole album."""
        first = messages[0]
        text = next((m.text or m.caption for m in messages if m.text or m.caption), "") or ""
        media = sum(1 for m in messages if m.has_media)
        kind = "post" if first.chat["type"] != "private" else "private"
        self.sandbox.ledger.record(
            LedgerItem(
                "telegram",
                str(first.chat["id"]),
                str(first.message_id),
                text,
                media,
                self.sandbox.clock.now(),
                kind,
            )
        )

    def find_message(self, chat_id: int, message_id: int) -> StoredMessage | None:
        return next((m for m in self.history.get(chat_id, []) if m.message_id == message_id), None)

    def delete_message(self, message: StoredMessage) -> None:
        chat_id = message.chat["id"]
        self.history[chat_id].remove(message)
        ledger = self.sandbox.ledger
        ledger.items = [
            i
            for i in ledger.items
            if not (
                i.platform == "telegram"
                and i.target == str(chat_id)
                and i.remote_id == str(message.message_id)
            )
        ]

    def chat_history(self, chat_id: int) -> list[dict[str, Any]]:
        """What the chat shows, oldest first, for pages and tests (JSON-ready)."""
        return [self._history_entry(m) for m in self.history.get(chat_id, [])]

    def _history_entry(self, message: StoredMessage) -> dict[str, Any]:
        photo = None
        if message.photo:
            largest = dict(message.photo[-1])
            largest["file_path"] = self.files.by_id[largest["file_id"]].file_path
            photo = largest
        document = None
        if message.document:
            document = dict(message.document)
            document["file_path"] = self.files.by_id[document["file_id"]].file_path
        return {
            "message_id": message.message_id,
            "date": message.date,
            "at": message.published_at.isoformat(),
            "sender": "bot" if message.by_bot else "user",
            "from": message.sender.to_api() if message.sender else None,
            "text": message.text,
            "entities": message.entities,
            "caption": message.caption,
            "caption_entities": message.caption_entities,
            "photo": photo,
            "document": document,
            "reply_to_message_id": message.reply_to_message_id,
            "forward_origin": message.forward_origin,
            "media_group_id": message.media_group_id,
            "buttons": (message.reply_markup or {}).get("inline_keyboard", []),
            "edit_date": message.edit_date,
            "reactions": dict(message.reactions),
            "views": message.views,
        }

    # -- what users do -------------------------------------------------------------------------

    def inject_message(self, user_id: int, text: str) -> dict[str, Any] | None:
        """A user writes to the bot in their private chat; returns the update (None if filtered).

        Writing to a bot starts it (and, after a block, is what a person does on unblocking)."""
        user = self.user(user_id)
        self.started.add(user_id)
        self.blocked.discard(user_id)
        entities = [
            {
                "type": "bot_command",
                "offset": utf16_len(text[: m.start()]),
                "length": utf16_len(m.group(0)),
            }
            for m in _COMMAND.finditer(text)
        ]
        message = self.new_message(self.chat_json(user_id), user, text=text, entities=entities)
        return self.enqueue("message", message.to_api())

    def block_bot(self, user_id: int) -> None:
        """A person blocks the bot: from now on it may not write to them."""
        self.user(user_id)
        self.blocked.add(user_id)

    def inject_photo(
        self, user_id: int, image: bytes, caption: str | None = None
    ) -> dict[str, Any] | None:
        """A user sends the bot a photo; the file is kept so getFile can fetch it."""
        user = self.user(user_id)
        self.started.add(user_id)
        self.blocked.discard(user_id)
        sizes = [f.photo_size() for f in self.files.add_photo(image)]
        message = self.new_message(self.chat_json(user_id), user, photo=sizes, caption=caption)
        return self.enqueue("message", message.to_api())

    def inject_callback(
        self, user_id: int, chat_id: int, message_id: int, data: str
    ) -> dict[str, Any] | None:
        """A user presses an inline button with `data` under a bot message."""
        message = self.find_message(chat_id, message_id)
        if message is None or not message.by_bot:
            raise LookupError(f"no bot message {message_id} in chat {chat_id}")
        buttons = [
            b for row in (message.reply_markup or {}).get("inline_keyboard", []) for b in row
        ]
        if not any(b.get("callback_data") == data for b in buttons):
            raise LookupError(f"message {message_id} has no button with callback_data {data!r}")
        user = self.user(user_id)
        seed = f"{self.sandbox.seed}:cb:{len(self.callback_queries)}"
        query_id = str(int.from_bytes(hashlib.sha256(seed.encode()).digest()[:8], "big"))
        self.callback_queries[query_id] = CallbackQuery(
            query_id, user_id, chat_id, message_id, data
        )
        chat_instance = str(
            int.from_bytes(hashlib.sha256(f"ci:{chat_id}".encode()).digest()[:8], "big")
        )
        payload = {
            "id": query_id,
            "from": user.to_api(),
            "message": message.to_api(),
            "chat_instance": chat_instance,
            "data": data,
        }
        return self.enqueue("callback_query", payload)

    def advance_engagement(self) -> list[dict[str, Any]]:
        """Bring reactions and views of channel posts up to sandbox time; returns the updates."""
        now = self.sandbox.clock.now()
        updates = []
        for chat_id, messages in self.history.items():
            fixture = self.chats.get(chat_id)
            if fixture is None or fixture.type != "channel" or not fixture.bot_is_admin:
                continue
            for message in messages:
                if not message.by_bot:
                    continue
                key = f"telegram:{chat_id}:{message.message_id}"
                counts = engagement_at(self.sandbox.seed, key, message.published_at, now)
                message.views = counts.views
                reactions = _split_reactions(counts.reactions)
                if reactions == message.reactions:
                    continue
                message.reactions = reactions
                counted = [
                    {"type": {"type": "emoji", "emoji": emoji}, "total_count": count}
                    for emoji, count in reactions.items()
                ]
                update = self.enqueue(
                    "message_reaction_count",
                    {
                        "chat": message.chat,
                        "message_id": message.message_id,
                        "date": int(now.timestamp()),
                        "reactions": counted,
                    },
                )
                if update is not None:
                    updates.append(update)
        return updates

    def configure_limits(self, settings: dict[str, Any]) -> None:
        """Admin API `limits`: `telegram_flood` on/off and the two flood rates."""
        limits = self.flood.limits
        if "telegram_flood" in settings:
            limits.enabled = bool(settings["telegram_flood"])
        if "overall_per_second" in settings:
            limits.overall_per_second = int(settings["overall_per_second"])
        if "per_chat_per_minute" in settings:
            limits.per_chat_per_minute = int(settings["per_chat_per_minute"])

    def on_clock_advanced(self) -> None:
        """Hook the admin API calls after moving sandbox time."""
        self.advance_engagement()

    # -- updates -------------------------------------------------------------------------------

    def effective_allowed(self) -> list[str]:
        if self.allowed_updates:
            return self.allowed_updates
        return [k for k in all_update_kinds() if k not in NOT_BY_DEFAULT]

    def enqueue(self, kind: str, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Queue an update for the bot, unless its allowed_updates leave this kind out."""
        if kind not in self.effective_allowed():
            return None
        update = {"update_id": self.next_update_id, kind: payload}
        self.next_update_id += 1
        self.updates.append(update)
        self._notify()
        self._start_delivery()
        return update

    def confirm(self, offset: int) -> None:
        """getUpdates' offset: forget updates before it (negative: keep only the last -offset)."""
        if offset < 0:
            self.updates = self.updates[offset:]
        elif offset:
            self.updates = [u for u in self.updates if u["update_id"] >= offset]

    def drop_pending(self) -> None:
        self.updates.clear()

    def _notify(self) -> None:
        if self._changed is not None:
            self._changed.set()
        self._changed = asyncio.Event()

    async def wait_for_change(self, seconds: float) -> None:
        """Sleep until an update arrives, the webhook changes or another poll starts."""
        if self._changed is None:
            self._changed = asyncio.Event()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._changed.wait(), seconds)

    def changed(self) -> None:
        """Wake long polls (another getUpdates or setWebhook supersedes them)."""
        self._notify()
        self._start_delivery()

    # -- webhook delivery ----------------------------------------------------------------------

    def _start_delivery(self) -> None:
        if self.webhook is None or not self.updates:
            return
        if self._delivery is not None and not self._delivery.done():
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # no loop yet; the next update or setWebhook starts delivery
        self._delivery = loop.create_task(self._deliver())

    def _cancel_delivery(self) -> asyncio.Task[None] | None:
        task, self._delivery = self._delivery, None
        if task is not None and not task.done():
            task.cancel()
            return task
        return None

    async def _deliver(self) -> None:
        """POST pending updates to the webhook one at a time, as Telegram does, until accepted."""
        timeout = aiohttp.ClientTimeout(total=10)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while self.webhook is not None and self.updates:
                webhook, update = self.webhook, self.updates[0]
                headers = {"Content-Type": "application/json"}
                if webhook.secret_token:
                    headers["X-Telegram-Bot-Api-Secret-Token"] = webhook.secret_token
                error = None
                try:
                    async with session.post(webhook.url, json=update, headers=headers) as response:
                        if not 200 <= response.status < 300:
                            error = (
                                "Wrong response from the webhook: "
                                f"{response.status} {response.reason}"
                            )
                except (aiohttp.ClientError, TimeoutError) as exc:
                    error = f"Connection error: {exc.__class__.__name__}"
                if error is None:
                    if self.updates and self.updates[0] is update:
                        self.updates.pop(0)
                    continue
                webhook.last_error_date = self.sandbox.clock.timestamp()
                webhook.last_error_message = error
                log.info("webhook delivery failed: %s", error)
                await asyncio.sleep(WEBHOOK_RETRY_SECONDS)


def _split_reactions(total: int) -> dict[str, int]:
    counts: dict[str, int] = {}
    left = total
    for emoji, share in REACTION_SHARES[:-1]:
        counts[emoji] = int(total * share)
        left -= counts[emoji]
    counts[REACTION_SHARES[-1][0]] = left
    return {emoji: n for emoji, n in counts.items() if n > 0}


def telegram_state(sandbox: Sandbox) -> TelegramState:
    """The sandbox's Telegram emulator state (created by `telegram.add_routes`)."""
    state: TelegramState = sandbox.parts["telegram"]
    return state
