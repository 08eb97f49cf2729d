"""The real python-telegram-bot Application against the sandbox: updates injected as users,
replies read back from the sandbox's chat history."""

from __future__ import annotations

import base64
from dataclasses import dataclass, field
from typing import Any

from telegram import Update
from telegram.ext import Application

from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state


@dataclass
class BotHarness:
    server: SandboxThread
    application: Application  # type: ignore[type-arg]
    offset: int = 0
    seen: dict[int, int] = field(default_factory=dict)  # chat id → messages already read

    @property
    def state(self) -> Any:
        return telegram_state(self.server.sandbox)

    async def _process(self) -> list[Update]:
        updates = await self.application.bot.get_updates(offset=self.offset, timeout=0)
        for update in updates:
            await self.application.process_update(update)
            self.offset = update.update_id + 1
        return list(updates)

    def history(self, chat_id: int) -> list[dict[str, Any]]:
        return self.server.call(lambda: self.state.chat_history(chat_id))

    def _new_bot_messages(self, chat_id: int) -> list[dict[str, Any]]:
        history = self.history(chat_id)
        start = self.seen.get(chat_id, 0)
        self.seen[chat_id] = len(history)
        return [m for m in history[start:] if m.get("sender") == "bot"]

    async def send(self, user_id: int, text: str) -> list[dict[str, Any]]:
        """The user writes `text`; returns the bot's new messages in their chat."""
        self._new_bot_messages(user_id)
        self.server.call(lambda: self.state.inject_message(user_id, text))
        await self._process()
        return self._new_bot_messages(user_id)

    async def send_photo(
        self, user_id: int, image: bytes, caption: str | None = None
    ) -> list[dict[str, Any]]:
        self._new_bot_messages(user_id)
        self.server.call(lambda: self.state.inject_photo(user_id, image, caption))
        await self._process()
        return self._new_bot_messages(user_id)

    async def press(
        self, user_id: int, data: str, chat_id: int | None = None
    ) -> list[dict[str, Any]]:
        """Press the newest button carrying `data` under a bot message; returns new messages
        and edits (the edited message is returned again)."""
        chat = chat_id or user_id
        history = self.history(chat)
        for message in reversed(history):
            buttons = [b for row in message.get("buttons") or [] for b in row]
            if any(b.get("callback_data") == data for b in buttons):
                target = message["message_id"]
                break
        else:
            raise AssertionError(f"no button {data!r} in chat {chat}: {history[-3:]}")
        before = {m["message_id"]: m.get("edit_date") for m in history}
        self.server.call(lambda: self.state.inject_callback(user_id, chat, target, data))
        await self._process()
        after = self.history(chat)
        self.seen[chat] = len(after)
        return [
            m
            for m in after
            if m.get("sender") == "bot"
            and (m["message_id"] not in before or m.get("edit_date") != before[m["message_id"]])
        ]

    @staticmethod
    def buttons(message: dict[str, Any]) -> list[str]:
        return [
            b.get("callback_data") or b.get("url")
            for row in message.get("buttons") or []
            for b in row
        ]


def jpeg_base64(data: bytes) -> str:
    return base64.b64encode(data).decode()
