"""Turning a stored channel into the adapter that talks to its platform."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from afisha.config import Settings
from channels.base import AuthExpired
from channels.base import Channel as ChannelAdapter
from channels.telegram import TelegramBots, TelegramChannel
from content.domain.states import Platform
from content.storage.models import Channel
from content.storage.secrets import CredentialCipher
from scheduler.limits import Rate, rates_for

if TYPE_CHECKING:
    from channels.instagram_public import InstaloaderCollector


@dataclass
class ChannelFactory:
    """Builds (and reuses) one adapter per channel; a changed token builds a fresh one."""

    settings: Settings
    cipher: CredentialCipher
    sessions: sessionmaker[Session] | None = None
    bots: TelegramBots = field(default_factory=TelegramBots)
    _adapters: dict[int, tuple[tuple[str, str | None], ChannelAdapter]] = field(
        default_factory=dict
    )
    _public: InstaloaderCollector | None = None

    def __call__(self, channel: Channel) -> ChannelAdapter:
        """The adapter for `channel`; a new one when its target or credentials changed."""
        identity = (channel.external_id, channel.credentials_encrypted)
        cached = self._adapters.get(channel.id)
        if cached is not None and cached[0] == identity:
            return cached[1]
        adapter = self._build(channel)
        self._adapters[channel.id] = (identity, adapter)
        return adapter

    def _credentials(self, channel: Channel) -> dict[str, str]:
        if channel.credentials_encrypted is None:
            raise AuthExpired(f"channel {channel.name} has no access token: add it again")
        return {k: str(v) for k, v in self.cipher.decrypt(channel.credentials_encrypted).items()}

    def _build(self, channel: Channel) -> ChannelAdapter:
        settings = self.settings
        if channel.platform is Platform.TELEGRAM:
            if not settings.telegram_token:
                raise AuthExpired("no Telegram bot token is configured (AFISHA_TELEGRAM_TOKEN)")
            chat: int | str = channel.external_id
            if isinstance(chat, str) and chat.lstrip("-").isdigit():
                chat = int(chat)
            return TelegramChannel(
                settings.telegram_token, settings.telegram_api_url, chat, bots=self.bots
            )
        credentials = self._credentials(channel)
        # Imported here: facebook-sdk, requests and Pillow cost a worker some 7 MB, which one
        # that posts only to Telegram has no use for.
        if channel.platform is Platform.FACEBOOK:
            from channels.facebook import FacebookChannel

            return FacebookChannel(
                channel.external_id,
                credentials["access_token"],
                settings.graph_api_url,
                settings.graph_api_version,
                name=channel.name,
            )
        from channels.instagram import InstagramChannel

        page_id = credentials.get("page_id")
        return InstagramChannel(
            channel.external_id,
            credentials["access_token"],
            settings.graph_api_url,
            settings.graph_api_version,
            page_id=page_id,
            page_token=self._page_token(page_id),
            public_media_url=settings.public_media_url,
            media_root=settings.media_path,
            name=channel.name,
            collector=self.public_collector(),
        )

    def public_collector(self) -> InstaloaderCollector:
        """The one reader of public Instagram pages, shared by every Instagram channel."""
        if self._public is None:
            from channels.instagram_public import InstaloaderCollector

            self._public = InstaloaderCollector(self.settings.instagram_web_url)
        return self._public

    def _page_token(self, page_id: str | None) -> str | None:
        """The token of the linked Page, if Afisha manages it as a Facebook channel too."""
        if page_id is None or self.sessions is None:
            return None
        with self.sessions() as session:
            page = session.scalars(
                select(Channel).where(
                    Channel.platform == Platform.FACEBOOK, Channel.external_id == page_id
                )
            ).first()
            if page is None or page.credentials_encrypted is None:
                return None
            return str(self.cipher.decrypt(page.credentials_encrypted).get("access_token"))

    def rates(self, channel: Channel) -> list[Rate]:
        return rates_for(channel.platform.value, channel.external_id, self.settings.telegram_token)

    async def close(self) -> None:
        for _, adapter in self._adapters.values():
            await adapter.close()
        self._adapters.clear()
        if self._public is not None:
            self._public.close()
            self._public = None
