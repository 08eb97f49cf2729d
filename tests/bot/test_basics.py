"""Everyone passes one door: staff are served in their language, strangers politely refused."""

from __future__ import annotations

from telegram import Update

from tests.bot.conftest import ADMIN, EDITOR, MANAGER, STRANGER
from tests.bot.harness import BotHarness


async def test_staff_are_greeted_in_their_own_language(bot: BotHarness) -> None:
    (reply,) = await bot.send(ADMIN, "/start")
    assert reply["text"].startswith("Здравствуйте, Aigerim!")
    (reply,) = await bot.send(EDITOR, "/start")
    assert reply["text"].startswith("Sveiki, Egle!")
    (reply,) = await bot.send(MANAGER, "/start")
    assert "Marat" in reply["text"]


async def test_a_stranger_is_refused_with_their_id_to_pass_on(bot: BotHarness) -> None:
    (reply,) = await bot.send(STRANGER, "/queue")
    assert str(STRANGER) in reply["text"]
    assert "administrator" in reply["text"]
    (reply,) = await bot.send(STRANGER, "/start")  # /start is for everyone
    assert "/events" in reply["text"]


async def test_help_lists_what_each_role_may_do(bot: BotHarness) -> None:
    (admin_help,) = await bot.send(ADMIN, "/help")
    (stranger_help,) = await bot.send(STRANGER, "/help")
    assert "/lang" in admin_help["text"]
    assert "/lang" in stranger_help["text"]
    assert len(admin_help["text"].splitlines()) >= len(stranger_help["text"].splitlines())


async def test_language_is_chosen_with_buttons_and_kept(bot: BotHarness) -> None:
    (menu,) = await bot.send(ADMIN, "/lang")
    assert BotHarness.buttons(menu) == ["lang:en", "lang:ru", "lang:kk", "lang:lt"]
    (edited,) = await bot.press(ADMIN, "lang:en")
    assert edited["text"] == "I will speak English with you."
    (reply,) = await bot.send(ADMIN, "/start")
    assert reply["text"].startswith("Hello, Aigerim!")


async def test_unknown_commands_and_cancel_are_answered(bot: BotHarness) -> None:
    (reply,) = await bot.send(EDITOR, "/frobnicate")
    assert "/frobnicate" in reply["text"]
    (reply,) = await bot.send(EDITOR, "/cancel")
    assert reply["text"]


async def test_a_repeated_update_never_acts_twice(bot: BotHarness) -> None:
    bot.server.call(lambda: bot.state.inject_message(ADMIN, "/start"))
    updates = await bot.application.bot.get_updates(offset=bot.offset, timeout=0)
    (update,) = updates
    bot.offset = update.update_id + 1
    before = len(bot.history(ADMIN))
    await bot.application.process_update(update)
    await bot.application.process_update(Update.de_json(update.to_dict(), bot.application.bot))
    replies = [m for m in bot.history(ADMIN)[before:] if m["sender"] == "bot"]
    assert len(replies) == 1
