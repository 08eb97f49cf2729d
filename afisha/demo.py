"""`afisha demo`: a seeded library against the sandbox, from a fresh clone in one command."""

from __future__ import annotations

import asyncio
import shutil
import socket
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

from PIL import Image, ImageDraw

from afisha.config import Settings, write_settings
from afisha.runtime import serve
from afisha.services import run_services
from afisha.views import event_line, local, post_line
from afisha.wiring import Afisha, open_afisha
from content.domain.states import Platform
from content.domain.text import excerpt
from content.queueing import scheduling
from content.storage import registry, store
from content.storage.secrets import generate_key
from sandbox.fixtures import Fixtures
from sandbox.runner import SandboxThread

ORGANIZATION = "Aktobe Regional Universal Scientific Library named after S. Baishev"
TIMEZONE = "Asia/Aqtobe"

POSTS = [
    (
        "Библиотечный урок «Маркетинг и методическая помощь» для специалистов библиотек области. "
        "Групповая консультация, обмен опытом и практические задания. Приходите!",
        {
            "kk": "«Маркетинг және әдістемелік көмек» кітапханалық сабағы. "
            "Тәжірибе алмасу және практикалық тапсырмалар. Келіңіздер!",
        },
        ["news-telegram", "news-facebook"],
        0,
        True,
    ),
    (
        "«Рухани жаңғыру»: кітапхана жобалық кеңсемен бірге азаматтық бастамаларды қолдайды. "
        "Жобаңызды ұсыныңыз!",
        {
            "ru": "«Рухани жаңғыру»: библиотека вместе с проектным офисом поддерживает гражданские "
            "инициативы. Предложите свой проект!"
        },
        ["news-telegram"],
        1,
        False,
    ),
    (
        "New arrivals this week: local history, children's books and periodicals. "
        "The Public Relations sector invites schools and kindergartens to partner with us. "
        "#library #aktobe #reading",
        {},
        ["news-facebook", "library-instagram"],
        2,
        True,
    ),
]


def _poster(path: Path, title: str, colour: tuple[int, int, int]) -> Path:
    """A simple 4:5 JPEG poster, so the demo needs no image files of its own."""
    image = Image.new("RGB", (1080, 1350), colour)
    draw = ImageDraw.Draw(image)
    draw.rectangle((60, 60, 1020, 1290), outline=(255, 255, 255), width=12)
    draw.text((120, 600), title, fill=(255, 255, 255))
    image.save(path, "JPEG", quality=85)
    return path


def _free_port() -> int:
    """A loopback port for the demo's web server (8080 may well be taken)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def demo_settings(directory: Path, base_url: str, fixtures: Fixtures) -> Settings:
    return replace(
        Settings(),
        database_url=f"sqlite:///{directory / 'afisha.db'}",
        secret_key=generate_key(),
        organization=ORGANIZATION,
        timezone=TIMEZONE,
        language="ru",
        telegram_token=fixtures.bot_token,
        telegram_api_url=base_url,
        graph_api_url=f"{base_url}/graph",
        instagram_web_url=f"{base_url}/instagram-web",
        media_dir=str(directory / "media"),
        web_port=_free_port(),
    )


def seed(afisha: Afisha, fixtures: Fixtures, directory: Path) -> None:
    """Staff, one channel per platform, a few posts and an event, through the real services."""
    now = afisha.now()
    news_chat = fixtures.chats[0]
    page, account = fixtures.pages[0], fixtures.instagram[0]
    with afisha.transaction() as (session, org):
        for user_id, name, role in (
            (fixtures.staff_user_id, "Айгерим (PR)", "admin"),
            (fixtures.staff_user_id + 10, "Manager", "manager"),
            (fixtures.staff_user_id + 20, "Editor", "editor"),
        ):
            registry.add_staff(session, org, user_id, name, role, None, "demo")
        for name, platform, external, token, lang in (
            ("news-telegram", Platform.TELEGRAM, str(news_chat.id), None, "ru"),
            ("news-facebook", Platform.FACEBOOK, page.id, page.access_token, "ru"),
            ("library-instagram", Platform.INSTAGRAM, account.id, account.access_token, "kk"),
        ):
            registry.add_channel(
                session,
                org,
                afisha.cipher,
                name=name,
                platform=platform,
                external_id=external,
                token=token,
                language=lang,
                actor="demo",
                linked_page_id=account.page_id if platform is Platform.INSTAGRAM else None,
            )
        colours = [(32, 84, 140), (140, 60, 40), (40, 120, 80)]
        for index, (text, variants, channels, minutes, with_image) in enumerate(POSTS):
            images = []
            if with_image:
                images.append(_poster(directory / f"poster-{index}.jpg", text[:40], colours[index]))
            new = scheduling.NewPost(
                text=text,
                variants=variants,
                channels=channels,
                images=images,
                due_at=now + timedelta(minutes=minutes),
            )
            scheduling.queue_post(session, org, new, afisha.settings.media_path, "demo")
        event = scheduling.NewEvent(
            title="Презентация книги: краеведение Актюбинской области",
            starts_at=now + timedelta(days=3, hours=2),
            place="Читальный зал, 2 этаж",
            description="Встреча с авторами, автограф-сессия и выставка краеведческой литературы.",
            image=_poster(directory / "event.jpg", "Book presentation", (90, 40, 120)),
            channels=["news-telegram", "news-facebook", "library-instagram"],
            announce_at=now,
            reminder_offsets=[1440, 120],
        )
        scheduling.add_event(session, org, event, afisha.settings.media_path, now, "demo")


def show_queue(afisha: Afisha, echo: Callable[[str], None]) -> None:
    with afisha.transaction() as (session, _org):
        echo("Posts:")
        for post in store.list_posts(session):
            echo(post_line(post, afisha.tz))
        echo("Events:")
        for event in store.list_events(session):
            echo(event_line(event, afisha.tz))
        summary = store.queue_status(session)
        echo(
            f"Queued publications: {summary.queued}; next due {local(summary.next_due, afisha.tz)}"
        )


def run_demo(
    directory: Path, *, port: int, keep_running: bool, echo: Callable[[str], None]
) -> None:
    if directory.exists():
        shutil.rmtree(directory)
    directory.mkdir(parents=True)
    server = SandboxThread(seed=0, port=port)
    try:
        server.start()
    except OSError:
        server = SandboxThread(seed=0, port=0).start()  # the usual port is taken
    try:
        settings = demo_settings(directory, server.base_url, server.sandbox.fixtures)
        write_settings(settings, directory / "afisha.toml")
        afisha = open_afisha(settings)
        try:
            seed(afisha, server.sandbox.fixtures, directory)
            echo(f"Demo library seeded in {directory}/ (settings: {directory}/afisha.toml)")
            echo(f"Sandbox: {server.base_url}/  (the channels' feeds and the staff chat)")
            show_queue(afisha, echo)
        finally:
            afisha.close()
        afisha = open_afisha(settings)
        try:
            if keep_running:
                echo(f"Open {server.base_url}/ : chat with the bot as a staff member (left),")
                echo("and watch the posts appear in the channels' feeds at their times.")
                echo("The engine and the bot are running; press Ctrl+C to stop.")
                asyncio.run(serve(afisha, services=run_services(afisha, echo)))
                echo("stopped")
            else:
                report = asyncio.run(serve(afisha, once=True))
                echo(f"Engine pass: {report}")
                for item in server.sandbox.ledger.items:
                    echo(f"  published on {item.platform}: {excerpt(item.text, 60)}")
        finally:
            afisha.close()
        echo(f"Try: afisha --config {directory}/afisha.toml post list")
    finally:
        server.stop()
