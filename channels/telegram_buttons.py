"""Inline buttons of a Telegram post: checked as the Bot API checks them, made into a keyboard."""

from __future__ import annotations

from collections.abc import Sequence

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from channels.base import Button

CALLBACK_DATA_MAX_BYTES = 64
BUTTON_URL_SCHEMES = ("http://", "https://", "tg://")
CALLBACK_TOO_LONG = "The button “{text}” carries more than 64 bytes of data."
BUTTON_WITHOUT_ACTION = "The button “{text}” has neither a link nor an action."
BUTTON_URL = "The link of the button “{text}” must start with http://, https:// or tg://."


def button_problems(buttons: Sequence[Button]) -> list[str]:
    problems = []
    for button in buttons:
        if button.url is None and button.callback_data is None:
            problems.append(BUTTON_WITHOUT_ACTION.format(text=button.text))
        if button.url is not None and not button.url.startswith(BUTTON_URL_SCHEMES):
            problems.append(BUTTON_URL.format(text=button.text))
        data = button.callback_data
        if data is not None and len(data.encode()) > CALLBACK_DATA_MAX_BYTES:
            problems.append(CALLBACK_TOO_LONG.format(text=button.text))
    return problems


def keyboard_of(buttons: Sequence[Button]) -> InlineKeyboardMarkup | None:
    # One button a row: long labels stay readable on a phone.
    if not buttons:
        return None
    return InlineKeyboardMarkup(
        [[InlineKeyboardButton(b.text, url=b.url, callback_data=b.callback_data)] for b in buttons]
    )
