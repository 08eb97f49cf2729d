"""The pure parts of the Telegram emulator: the spec checker, HTML parsing and flood windows."""

from __future__ import annotations

import pytest

from sandbox.telegram_flood import FloodControl
from sandbox.telegram_html import EntityParseError, parse_html
from sandbox.telegram_spec import check_object, check_result, required_fields
from tests.sandbox.telegram_fixtures import FakeMonotonic, spec_problems

PHOTO = {"file_id": "a", "file_unique_id": "b", "width": 10, "height": 20}


def test_spec_knows_required_parameters() -> None:
    assert required_fields("sendMessage") == ["chat_id", "text"]
    assert required_fields("SENDMESSAGE") == ["chat_id", "text"]
    assert required_fields("getMe") == []


def test_checker_accepts_a_documented_object() -> None:
    assert check_object("PhotoSize", PHOTO) == []
    message = {"message_id": 1, "date": 2, "chat": {"id": 3, "type": "channel"}, "photo": [PHOTO]}
    assert check_result("sendPhoto", message) == []


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({k: v for k, v in PHOTO.items() if k != "width"}, "PhotoSize.width: required"),
        ({**PHOTO, "width": "10"}, "PhotoSize.width: expected Integer"),
        ({**PHOTO, "width": True}, "PhotoSize.width: expected Integer"),
        ({**PHOTO, "views": 3}, "PhotoSize.views: not a documented field"),
    ],
)
def test_checker_reports_what_is_wrong(value: dict[str, object], problem: str) -> None:
    problems = check_object("PhotoSize", value)
    assert len(problems) == 1
    assert problems[0].startswith(problem)


def test_checker_follows_arrays_alternatives_and_subtypes() -> None:
    assert check_result("getUpdates", [{"update_id": 1}]) == []
    assert check_result("getUpdates", {"update_id": 1}) != []
    assert check_result("editMessageText", True) == []  # Message or True
    member = {"status": "member", "user": {"id": 1, "is_bot": False, "first_name": "A"}}
    assert check_object("ChatMember", member) == []
    assert check_object("ChatMember", {"status": "member"}) != []


def test_html_makes_entities_in_utf16_units() -> None:
    text, entities = parse_html(
        '😀 <b>bold</b> &amp; <a href="https://x.org/?a=1&amp;b=2">link</a>'
    )
    assert text == "😀 bold & link"
    assert entities == [
        {"offset": 3, "length": 4, "type": "bold"},
        {"offset": 10, "length": 4, "type": "text_link", "url": "https://x.org/?a=1&b=2"},
    ]


def test_html_nested_and_spoiler_tags() -> None:
    text, entities = parse_html(
        '<b><i>x</i></b><span class="tg-spoiler">s</span><pre language="py">c</pre>'
    )
    assert text == "xsc"
    assert [e["type"] for e in entities] == ["bold", "italic", "spoiler", "pre"]
    assert entities[-1]["language"] == "py"


@pytest.mark.parametrize(
    ("html", "error"),
    [
        ("a <p>b</p>", 'Unsupported start tag "p" at byte offset 2'),
        ("é <div>", 'Unsupported start tag "div" at byte offset 3'),
        ("<b>x", 'Can\'t find end tag corresponding to start tag "b"'),
        ("x</b>", "Unexpected end tag at byte offset 1"),
        ("<b>x</i>", 'Unmatched end tag at byte offset 4, expected "</b>", found "</i>"'),
        ("<b", "Unclosed start tag at byte offset 0"),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
def test_html_errors_use_tdlib_wording(html: str, error: str) -> None:
    with pytest.raises(EntityParseError) as exc:
        parse_html(html)
    assert str(exc.value) == error


def test_flood_windows_slide_with_the_clock() -> None:
    clock = FakeMonotonic()
    flood = FloodControl(clock)
    assert all(flood.admit(-1, is_group=True) is None for _ in range(20))
    assert flood.admit(-1, is_group=True) == 60
    assert flood.admit(-2, is_group=True) is None  # another channel has its own window
    assert flood.admit(5, is_group=False) is None  # private chats only meet the overall limit
    clock.advance(30)
    assert flood.admit(-1, is_group=True) == 30
    clock.advance(30)
    assert flood.admit(-1, is_group=True) is None


def test_flood_overall_limit_and_switch() -> None:
    clock = FakeMonotonic()
    flood = FloodControl(clock)
    assert all(flood.admit(user, is_group=False) is None for user in range(30))
    assert flood.admit(99, is_group=False) == 1
    flood.limits.enabled = False
    assert flood.admit(99, is_group=False) is None
    flood.limits.enabled = True
    assert flood.admit(-1, is_group=True, count=25) == 60  # an album larger than the limit


def test_recorded_answers_are_checked_against_the_spec() -> None:
    good = b'{"ok":true,"result":{"id":1,"is_bot":true,"first_name":"B"}}'
    bad = b'{"ok":true,"result":{"id":"1","is_bot":true}}'
    log = [
        ("http://h/bot1:a/getMe", 200, good),
        ("http://h/bot1:a/sendMessage", 400, b'{"ok":false}'),
        ("http://h/bot1:a/getMe", 200, bad),
    ]
    assert spec_problems(log) == [
        "getMe: result.first_name: required by User but missing",
        "getMe: result.id: expected Integer, got '1'",
    ]
