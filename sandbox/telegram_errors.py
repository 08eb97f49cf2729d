"""Bot API error answers, with the descriptions the official server gives.

The wording follows tdlib/telegram-bot-api (`Client.cpp`: `fail_query_with_error` prefixes
"Bad Request: ", "Forbidden: " and lower-cases the first letter of TDLib's message).
"""

from __future__ import annotations

from typing import Any


class BotApiError(Exception):
    """An `{"ok": false, ...}` answer."""

    def __init__(
        self, code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.code = code
        self.description = description
        self.parameters = parameters

    def to_json(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": self.code,
            "description": self.description,
        }
        if self.parameters:
            body["parameters"] = self.parameters
        return body


def bad_request(message: str) -> BotApiError:
    return BotApiError(400, f"Bad Request: {message}")


def forbidden(message: str) -> BotApiError:
    return BotApiError(403, f"Forbidden: {message}")


def too_many_requests(retry_after: int) -> BotApiError:
    return BotApiError(
        429, f"Too Many Requests: retry after {retry_after}", {"retry_after": retry_after}
    )


UNAUTHORIZED = BotApiError(401, "Unauthorized")
NOT_FOUND = BotApiError(404, "Not Found")

CHAT_ID_EMPTY = "chat_id is empty"
CHAT_NOT_FOUND = "chat not found"
NOT_CHANNEL_MEMBER = "bot is not a member of the channel chat"
CANT_INITIATE = "bot can't initiate conversation with a user"
BLOCKED_BY_USER = "bot was blocked by the user"
TEXT_EMPTY = "message text is empty"
TEXT_TOO_LONG = "message is too long"
CAPTION_TOO_LONG = "message caption is too long"
MESSAGE_ID_MISSING = "message identifier is not specified"
MESSAGE_TO_EDIT_NOT_FOUND = "message to edit not found"
MESSAGE_TO_DELETE_NOT_FOUND = "message to delete not found"
MESSAGE_NOT_MODIFIED = (
    "message is not modified: specified new message content and reply markup are exactly the "
    "same as a current content and reply markup of the message"
)
QUERY_ID_INVALID = "query is too old and response timeout expired or query ID is invalid"
WRONG_FILE = "wrong file identifier/HTTP URL specified"
WEBHOOK_ACTIVE = (
    "can't use getUpdates method while webhook is active; use deleteWebhook to delete the "
    "webhook first"
)
TERMINATED_BY_OTHER_POLL = (
    "terminated by other getUpdates request; make sure that only one bot instance is running"
)
TERMINATED_BY_WEBHOOK = "terminated by setWebhook request"


def conflict(message: str) -> BotApiError:
    return BotApiError(409, f"Conflict: {message}")
