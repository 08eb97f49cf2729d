"""No secret leaves by way of a failure: not in the logs, their tracebacks, staff's messages or
the database, at any log level.

The real clients fail against the sandbox in ways that quote their credentials: a refusal that
names the Telegram request URL (which holds the bot token), a Graph refusal that names the
Authorization header (the Page token), and PTB's own InvalidToken when the staff bot starts with
a revoked token (its message names the token, and the service's failure is logged with its
traceback). Logging is the product's own set-up, `afisha.logs.setup_logging`.
"""

from __future__ import annotations

import asyncio
import io
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from afisha.bot_service import run_bot
from afisha.cli import cli
from afisha.config import load_settings
from afisha.logs import setup_logging
from afisha.runtime import serve
from afisha.wiring import Afisha, open_afisha
from bot.app import build_application
from bot.notify import deliver_notices
from bot.services import BotServices
from channels.download import download_image
from content.redaction import MASK
from content.storage.secrets import generate_key
from sandbox.runner import SandboxThread
from sandbox.telegram_state import telegram_state
from scheduler.clock import SystemClock
from scheduler.timing import Worker
from tests.support.dbdump import dump

# Loggers that print what goes over the wire when allowed to.
WIRE_LOGGERS = ("httpx", "httpcore", "urllib3", "requests", "telegram", "facebook")


@pytest.fixture
def environment(
    sandbox: SandboxThread, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    fixtures = sandbox.sandbox.fixtures
    page = fixtures.pages[0]
    env = {
        "AFISHA_DATABASE_URL": f"sqlite:///{tmp_path}/afisha.db",
        "AFISHA_SECRET_KEY": generate_key(),
        "AFISHA_WEBHOOK_SECRET": "webhook-secret-that-must-not-leak",
        "AFISHA_MEDIA_DIR": str(tmp_path / "media"),
        "AFISHA_TELEGRAM_TOKEN": fixtures.bot_token,
        "AFISHA_TELEGRAM_API_URL": sandbox.base_url,
        "AFISHA_GRAPH_API_URL": f"{sandbox.base_url}/graph",
    }
    runner = CliRunner()
    chat = str(fixtures.chats[0].id)
    for args in (
        ["staff", "add", str(fixtures.staff_user_id), "--name", "Ann", "--role", "admin"],
        ["channel", "add", "tg", "--platform", "telegram", "--chat-id", chat],
        [
            "channel",
            "add",
            "fb",
            "--platform",
            "facebook",
            "--page-id",
            page.id,
            "--token",
            page.access_token,
        ],
        ["post", "add", "--text", "Book fair", "--channels", "tg,fb", "--at", "now"],
    ):
        result = runner.invoke(cli, args, env=env)
        assert result.exit_code == 0, result.output
    return env


@pytest.fixture
def captured(request: pytest.FixtureRequest) -> Iterator[io.StringIO]:
    """The product's log handler at the requested level, writing into a buffer."""
    level: int = request.param
    stream = io.StringIO()
    handler = setup_logging(level)
    handler.setStream(stream)
    before = {name: logging.getLogger(name).level for name in WIRE_LOGGERS}
    for name in WIRE_LOGGERS:  # an operator chasing a problem turns them all up
        logging.getLogger(name).setLevel(level)
    try:
        yield stream
    finally:
        logging.getLogger().removeHandler(handler)
        for name, old in before.items():
            logging.getLogger(name).setLevel(old)


def force(sandbox: SandboxThread, method: str, kind: str) -> None:
    sandbox.call(lambda: sandbox.sandbox.faults.force(method, kind))


async def fail_everything(sandbox: SandboxThread, afisha: Afisha, env: dict[str, str]) -> None:
    """Publish into refusals that quote the credentials, tell staff, then start the bot on a
    revoked token."""
    force(sandbox, "sendMessage", "echo")
    force(sandbox, "feed", "echo")
    report = await serve(afisha, once=True)
    assert report is not None
    assert report["attempts"] == 2

    settings = afisha.settings
    services = BotServices(
        afisha.sessions,
        SystemClock(),
        settings.media_path,
        settings.language,
        fetch_image=download_image,
    )
    assert settings.telegram_token is not None
    application = build_application(services, settings.telegram_token, settings.telegram_api_url)
    await application.initialize()
    try:
        assert await deliver_notices(application.bot, services) == 2
    finally:
        await application.shutdown()

    token = settings.telegram_token
    sandbox.call(lambda: sandbox.sandbox.fixtures.revoked_tokens.add(token))
    stop = asyncio.Event()

    async def staff_bot(service_stop: asyncio.Event, worker: Worker) -> None:
        try:
            await run_bot(afisha, None, service_stop, worker)
        finally:
            stop.set()  # the bot cannot start: end the run

    await asyncio.wait_for(serve(afisha, services=[staff_bot], stop=stop), 30)


@pytest.mark.parametrize(
    "captured",
    [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR],
    indirect=True,
    ids=["DEBUG", "INFO", "WARNING", "ERROR"],
)
async def test_no_secret_leaves_by_way_of_a_failure(
    sandbox: SandboxThread, environment: dict[str, str], captured: io.StringIO
) -> None:
    fixtures = sandbox.sandbox.fixtures
    settings = load_settings(environ=environment)
    afisha = open_afisha(settings)
    try:
        await fail_everything(sandbox, afisha, environment)
    finally:
        afisha.close()

    # The failures happened as planned, so what is checked below had the chance to leak.
    injected = sandbox.call(lambda: list(sandbox.sandbox.faults.injected))
    assert sorted((i["method"], i["kind"]) for i in injected) == [
        ("feed", "echo"),
        ("sendMessage", "echo"),
    ]
    state = telegram_state(sandbox.sandbox)
    told = [str(m.get("text") or "") for m in state.chat_history(fixtures.staff_user_id)]
    assert len(told) == 2
    assert any("tg" in text and MASK in text for text in told)  # the quoted URL, masked
    assert any("fb" in text for text in told)

    logs = captured.getvalue()
    level = logging.getLogger().level
    assert "service staff_bot stopped with an error" in logs
    assert "Traceback" in logs
    assert "InvalidToken" in logs
    assert f"The token `{MASK}` was rejected" in logs
    if level <= logging.DEBUG:
        assert f"/bot{MASK}/sendMessage" in logs  # httpx logged the request line, masked
    if level <= logging.INFO:
        assert "started" in logs

    database = repr(dump(environment["AFISHA_DATABASE_URL"]))
    assert "[REDACTED]" in database  # the refusals' reasons were stored, masked
    secrets = [
        fixtures.bot_token,
        fixtures.pages[0].access_token,
        environment["AFISHA_SECRET_KEY"],
        environment["AFISHA_WEBHOOK_SECRET"],
    ]
    for secret in secrets:
        assert secret not in logs
        assert all(secret not in text for text in told)
        assert secret not in database


def test_the_worker_logs_details_with_debug_and_no_secret(
    sandbox: SandboxThread, environment: dict[str, str]
) -> None:
    force(sandbox, "sendMessage", "echo")
    force(sandbox, "feed", "echo")
    result = CliRunner().invoke(cli, ["--debug", "worker", "--once", "--json"], env=environment)
    assert result.exit_code == 0, result.output
    logs = result.stderr
    assert " DEBUG " in logs  # --debug reaches the worker's own logging set-up
    assert f"httpx: HTTP Request: POST {sandbox.base_url}/bot{MASK}/sendMessage" in logs  # masked
    fixtures = sandbox.sandbox.fixtures
    for secret in (fixtures.bot_token, fixtures.pages[0].access_token):
        assert secret not in logs
        assert secret not in result.stdout
