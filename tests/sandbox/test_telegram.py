"""The Telegram emulator through the real python-telegram-bot client: sending, editing, deleting,
files, chats, commands, and the errors Telegram gives for each."""

from __future__ import annotations

import pytest
from telegram import (
    Bot,
    BotCommand,
    ChatMemberAdministrator,
    ChatMemberOwner,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InputMediaDocument,
    InputMediaPhoto,
    Message,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest, EndPointNotFound, Forbidden, InvalidToken

from sandbox.runner import SandboxThread
from tests.sandbox import telegram_fixtures
from tests.sandbox.telegram_fixtures import jpeg, on_loop

bot = telegram_fixtures.bot
raw_log = telegram_fixtures.raw_log

NEWS = -1001000000001  # a channel where the bot is an administrator
CLOSED = -1001000000003  # a channel where it is not
KEYBOARD = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("Register", url="https://library.example/e/1"),
            InlineKeyboardButton("Remind me", callback_data="remind:1"),
        ]
    ]
)


def ledger_items(sandbox: SandboxThread) -> list[tuple[str, str, str, int]]:
    return [(i.target, i.remote_id, i.text, i.media_count) for i in sandbox.sandbox.ledger.items]


async def test_get_me_describes_the_seeded_bot(bot: Bot, sandbox: SandboxThread) -> None:
    me = await bot.get_me()
    assert me.id == sandbox.sandbox.fixtures.bot_id
    assert me.is_bot
    assert me.username == "afisha_sandbox_bot"


async def test_send_message_with_html_and_keyboard(bot: Bot, sandbox: SandboxThread) -> None:
    sent = await bot.send_message(
        NEWS, "<b>Book club</b> at <i>6 pm</i>", parse_mode=ParseMode.HTML, reply_markup=KEYBOARD
    )
    assert sent.text == "Book club at 6 pm"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 9),
        ("italic", 13, 4),
    ]
    assert sent.reply_markup == KEYBOARD
    assert sent.sender_chat is not None
    assert sent.sender_chat.id == NEWS
    assert sent.from_user is None  # a channel post has no sender user
    assert ledger_items(sandbox) == [(str(NEWS), str(sent.message_id), "Book club at 6 pm", 0)]
    history = on_loop(sandbox, lambda s: s.chat_history(NEWS))
    assert history[0]["buttons"][0][1]["callback_data"] == "remind:1"


async def test_channel_username_works_as_chat_id(bot: Bot) -> None:
    sent = await bot.send_message("@library_news", "hello")
    assert sent.chat.id == NEWS


@pytest.mark.parametrize(
    ("text", "parse_mode", "error"),
    [
        ("x" * 5000, None, "Message is too long"),
        ("   ", None, "Message text is empty"),
        (
            "<p>x</p>",
            ParseMode.HTML,
            'Can\'t parse entities: unsupported start tag "p" at byte offset 0',
        ),
        (
            "<b>x",
            ParseMode.HTML,
            "Can't parse entities: can't find end tag corresponding to start tag \"b\"",
        ),
        ("x", "Fancy", "Unsupported parse_mode"),
    ],
)
async def test_send_message_rejects_bad_text(
    bot: Bot, sandbox: SandboxThread, text: str, parse_mode: str | None, error: str
) -> None:
    with pytest.raises(BadRequest) as exc:
        await bot.send_message(NEWS, text, parse_mode=parse_mode)
    assert exc.value.message == error
    assert sandbox.sandbox.ledger.items == []


async def test_text_limit_counts_characters_after_entities(bot: Bot) -> None:
    sent = await bot.send_message(NEWS, f"<b>{'я' * 4096}</b>", parse_mode=ParseMode.HTML)
    assert sent.text == "я" * 4096


async def test_unknown_chat_and_closed_channel(bot: Bot, sandbox: SandboxThread) -> None:
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.send_message(-100999, "x")
    with pytest.raises(Forbidden, match="^Forbidden: bot is not a member of the channel chat$"):
        await bot.send_message(CLOSED, "x")
    assert sandbox.sandbox.ledger.items == []


async def test_bad_inline_keyboards_are_rejected(bot: Bot) -> None:
    long_data = InlineKeyboardMarkup([[InlineKeyboardButton("x", callback_data="d" * 65)]])
    with pytest.raises(BadRequest, match="^Button_data_invalid$"):
        await bot.send_message(NEWS, "x", reply_markup=long_data)


async def test_photo_upload_sizes_and_file_round_trip(bot: Bot, sandbox: SandboxThread) -> None:
    image = jpeg(1600, 900)
    sent = await bot.send_photo(NEWS, image, caption="<b>Poster</b>", parse_mode=ParseMode.HTML)
    assert [(p.width, p.height) for p in sent.photo] == [
        (90, 51),
        (320, 180),
        (800, 450),
        (1280, 720),
    ]
    assert sent.caption == "Poster"
    largest = sent.photo[-1]
    file = await bot.get_file(largest.file_id)
    assert file.file_size == largest.file_size
    data = await file.download_as_bytearray()
    assert len(data) == largest.file_size
    assert data.startswith(b"\xff\xd8")
    assert ledger_items(sandbox) == [(str(NEWS), str(sent.message_id), "Poster", 1)]


async def test_photo_again_by_file_id_and_by_url(bot: Bot, sandbox: SandboxThread) -> None:
    first = await bot.send_photo(NEWS, jpeg(400, 300))
    again = await bot.send_photo(NEWS, first.photo[-1].file_id)
    assert again.photo == first.photo
    file = await bot.get_file(first.photo[-1].file_id)
    assert file.file_path is not None
    by_url = await bot.send_photo(NEWS, file.file_path)  # the sandbox fetches it like Telegram
    assert (by_url.photo[-1].width, by_url.photo[-1].height) == (400, 300)
    assert len(sandbox.sandbox.ledger.items) == 3


async def test_photo_errors(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="^Image_process_failed$"):
        await bot.send_photo(NEWS, b"not an image at all")
    with pytest.raises(BadRequest, match="^Wrong file identifier/http url specified$"):
        await bot.send_photo(NEWS, "AgACAgIAAxkBAAIunknown")
    with pytest.raises(BadRequest, match="^Message caption is too long$"):
        await bot.send_photo(NEWS, jpeg(10, 10), caption="c" * 1025)


async def test_media_group_is_one_ledger_item(bot: Bot, sandbox: SandboxThread) -> None:
    album = [InputMediaPhoto(jpeg(300, 200), caption="Day one"), InputMediaPhoto(jpeg(200, 300))]
    sent = await bot.send_media_group(NEWS, album)
    assert len(sent) == 2
    assert sent[0].media_group_id is not None
    assert sent[0].media_group_id == sent[1].media_group_id
    assert sent[0].caption == "Day one"
    assert ledger_items(sandbox) == [(str(NEWS), str(sent[0].message_id), "Day one", 2)]


async def test_media_group_size_and_mixing_rules(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="^Too many messages to send as an album$"):
        await bot.send_media_group(NEWS, [InputMediaPhoto(jpeg(20, 20)) for _ in range(11)])
    with pytest.raises(BadRequest, match="^Document can't be mixed with other media types$"):
        await bot.send_media_group(
            NEWS, [InputMediaPhoto(jpeg(20, 20)), InputMediaDocument(b"%PDF-1.4", filename="a.pdf")]
        )
    # Telegram sends a one-item album as a plain message, outside any media group.
    (single,) = await bot.send_media_group(NEWS, [InputMediaPhoto(jpeg(20, 20))])
    assert single.media_group_id is None


async def test_document_upload(bot: Bot, sandbox: SandboxThread) -> None:
    sent = await bot.send_document(
        NEWS, b"BEGIN:VCALENDAR\r\nEND:VCALENDAR\r\n", filename="event.ics"
    )
    assert sent.document is not None
    assert sent.document.file_name == "event.ics"
    assert sent.document.mime_type == "text/calendar"
    file = await bot.get_file(sent.document.file_id)
    assert (await file.download_as_bytearray()).startswith(b"BEGIN:VCALENDAR")
    assert ledger_items(sandbox)[0][3] == 1


async def test_edits_and_their_errors(bot: Bot, sandbox: SandboxThread) -> None:
    sent = await bot.send_message(NEWS, "Draft", reply_markup=KEYBOARD)
    edited = await bot.edit_message_text("Final", NEWS, sent.message_id, reply_markup=KEYBOARD)
    assert isinstance(edited, Message)
    assert edited.text == "Final"
    assert edited.edit_date is not None
    with pytest.raises(BadRequest, match="^Message is not modified: specified new message content"):
        await bot.edit_message_text("Final", NEWS, sent.message_id, reply_markup=KEYBOARD)
    cleared = await bot.edit_message_reply_markup(NEWS, sent.message_id, reply_markup=None)
    assert isinstance(cleared, Message)
    assert cleared.reply_markup is None
    with pytest.raises(BadRequest, match="^There is no caption in the message to edit$"):
        await bot.edit_message_caption(NEWS, sent.message_id, caption="x")
    with pytest.raises(BadRequest, match="^Message to edit not found$"):
        await bot.edit_message_text("x", NEWS, 999)
    photo = await bot.send_photo(NEWS, jpeg(50, 50), caption="old")
    recaptioned = await bot.edit_message_caption(NEWS, photo.message_id, caption="new")
    assert isinstance(recaptioned, Message)
    assert recaptioned.caption == "new"
    with pytest.raises(BadRequest, match="^There is no text in the message to edit$"):
        await bot.edit_message_text("x", NEWS, photo.message_id)
    history = on_loop(sandbox, lambda s: s.chat_history(NEWS))
    assert [m["text"] or m["caption"] for m in history] == ["Final", "new"]
    assert len(sandbox.sandbox.ledger.items) == 2  # edits publish nothing new


async def test_delete_message(bot: Bot, sandbox: SandboxThread) -> None:
    sent = await bot.send_message(NEWS, "Oops")
    assert await bot.delete_message(NEWS, sent.message_id) is True
    assert sandbox.sandbox.ledger.items == []
    assert on_loop(sandbox, lambda s: s.chat_history(NEWS)) == []
    with pytest.raises(BadRequest, match="^Message to delete not found$"):
        await bot.delete_message(NEWS, sent.message_id)


async def test_private_chat_replies_are_kept_for_the_chat_ui(
    bot: Bot, sandbox: SandboxThread
) -> None:
    staff = sandbox.sandbox.fixtures.staff_user_id
    sent = await bot.send_message(staff, "Queue is empty", reply_markup=KEYBOARD)
    assert sent.chat.type == "private"
    assert sent.from_user is not None
    assert sent.from_user.id == bot.id
    await bot.edit_message_text("Queue: 1 post", staff, sent.message_id)
    history = on_loop(sandbox, lambda s: s.chat_history(staff))
    assert [(m["sender"], m["text"]) for m in history] == [("bot", "Queue: 1 post")]
    assert sandbox.sandbox.ledger.items[0].kind == "private"
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.send_message(424242, "nobody started the bot")


async def test_commands_round_trip(bot: Bot) -> None:
    commands = [BotCommand("new", "Write a post"), BotCommand("queue", "What is scheduled")]
    assert await bot.set_my_commands(commands) is True
    assert await bot.get_my_commands() == tuple(commands)
    assert await bot.get_my_commands(language_code="uk") == ()
    with pytest.raises(BadRequest, match="^Bot_command_invalid$"):
        await bot.set_my_commands([BotCommand("New Post", "x")])


async def test_get_chat_and_members(bot: Bot, sandbox: SandboxThread) -> None:
    chat = await bot.get_chat(NEWS)
    assert (chat.type, chat.title, chat.username) == ("channel", "Library News", "library_news")
    me = await bot.get_chat_member(NEWS, bot.id)
    assert isinstance(me, ChatMemberAdministrator)
    assert me.can_post_messages
    owner = await bot.get_chat_member(NEWS, sandbox.sandbox.fixtures.staff_user_id)
    assert isinstance(owner, ChatMemberOwner)
    with pytest.raises(Forbidden):
        await bot.get_chat_member(CLOSED, bot.id)
    with pytest.raises(BadRequest, match="^Chat not found$"):
        await bot.get_chat(-100999)


async def test_get_file_errors(bot: Bot) -> None:
    with pytest.raises(BadRequest, match="^Invalid file_id$"):
        await bot.get_file("nope")


async def test_unknown_method_and_bad_tokens(bot: Bot, sandbox: SandboxThread) -> None:
    with pytest.raises(EndPointNotFound):
        await bot.do_api_request("sendTelepathy", api_kwargs={"chat_id": NEWS})
    with pytest.raises(InvalidToken, match="was rejected by the server"):
        async with Bot("123:wrong", base_url=f"{sandbox.base_url}/bot"):
            pass
    token = sandbox.sandbox.fixtures.bot_token
    sandbox.call(lambda: sandbox.sandbox.fixtures.revoked_tokens.add(token))
    with pytest.raises(InvalidToken, match="^Unauthorized$"):
        await bot.get_me()
