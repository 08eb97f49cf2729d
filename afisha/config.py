"""Settings from `afisha.toml`, each overridable by an AFISHA_* environment variable."""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import tomli_w
from cryptography.fernet import Fernet

from content.domain.languages import check_language
from content.domain.timeparse import zone
from content.errors import ConfigurationError

CONFIG_FILE = "afisha.toml"
SECRET_KEYS = frozenset({"secret_key", "telegram_token", "webhook_secret"})


@dataclass(frozen=True)
class Settings:
    """Everything configurable; the field name in upper case after AFISHA_ is its variable."""

    database_url: str = "sqlite:///afisha.db"
    secret_key: str | None = None
    organization: str = "My Library"
    timezone: str = "UTC"
    language: str = "en"
    telegram_token: str | None = None
    telegram_api_url: str = "https://api.telegram.org"
    graph_api_url: str = "https://graph.facebook.com"
    graph_api_version: str = "v25.0"
    # Where public Instagram pages are read (instaloader), when Graph gives no engagement.
    instagram_web_url: str = "https://www.instagram.com"
    media_dir: str = "media"
    public_media_url: str | None = None
    web_port: int = 8080
    web_host: str = "127.0.0.1"
    # Webhook mode: Telegram posts updates to this public URL (ending in /telegram/webhook),
    # proving itself with webhook_secret; without it the bot polls.
    webhook_url: str | None = None
    webhook_secret: str | None = None
    grace_minutes: int = 15
    # Whether editors' posts wait for a manager's approval, in the first organisation (None:
    # as `afisha org set` left it; other organisations are set with `afisha org set` only).
    requires_approval: bool | None = None
    source: dict[str, str] = field(default_factory=dict, compare=False)

    @property
    def media_path(self) -> Path:
        return Path(self.media_dir)

    def secrets(self) -> list[str]:
        """The secret values, for log redaction."""
        return [v for k in SECRET_KEYS if (v := getattr(self, k))]

    def masked(self) -> dict[str, Any]:
        """Settings for display: secrets shown only as set or not set."""
        shown: dict[str, Any] = {}
        for f in fields(self):
            if f.name == "source":
                continue
            value = getattr(self, f.name)
            if f.name in SECRET_KEYS:
                value = "******** (set)" if value else "(not set)"
            shown[f.name] = value
        return shown


_TRUE = frozenset({"true", "yes", "on", "1"})
_FALSE = frozenset({"false", "no", "off", "0"})


def _coerce(name: str, raw: Any) -> Any:
    target = {f.name: f for f in fields(Settings)}[name]
    if str(target.type).startswith("bool"):
        if isinstance(raw, bool) or raw is None:
            return raw
        text = str(raw).strip().lower()
        if text in _TRUE | _FALSE:
            return text in _TRUE
        if not text:
            return None
        raise ConfigurationError(f"{name} must be true or false, not {raw!r}")
    if target.type == "int":
        try:
            return int(raw)
        except (TypeError, ValueError):
            raise ConfigurationError(f"{name} must be a whole number, not {raw!r}") from None
    if raw is None or raw == "":
        return None if "None" in str(target.type) else raw
    return str(raw)


def load_settings(path: Path | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Read the file (if present), then apply the environment; validates every value."""
    environ = os.environ if environ is None else environ
    path = path or Path(environ.get("AFISHA_CONFIG", CONFIG_FILE))
    values: dict[str, Any] = {}
    source: dict[str, str] = {}
    known = {f.name for f in fields(Settings)} - {"source"}
    if path.is_file():
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigurationError(f"{path} is not valid TOML: {exc}") from None
        section = data.get("afisha", data)
        for key, raw in section.items():
            if key not in known:
                raise ConfigurationError(f"{path}: unknown setting {key!r}")
            values[key], source[key] = _coerce(key, raw), str(path)
    for key in known:
        env = f"AFISHA_{key.upper()}"
        if env in environ:
            values[key], source[key] = _coerce(key, environ[env]), env
    settings = replace(Settings(), **values, source=source)
    validate(settings)
    return settings


def validate(settings: Settings) -> None:
    zone(settings.timezone)
    check_language(settings.language)
    if settings.secret_key:
        try:
            Fernet(settings.secret_key.encode())
        except (ValueError, TypeError):
            raise ConfigurationError(
                "AFISHA_SECRET_KEY is not a valid Fernet key: generate one with `afisha init`"
            ) from None
    if settings.webhook_url and not settings.webhook_secret:
        raise ConfigurationError(
            "webhook_url needs webhook_secret (AFISHA_WEBHOOK_SECRET: 1-256 characters of "
            "A-Z, a-z, 0-9, _ and -), so that only Telegram can post updates"
        )
    if settings.webhook_secret and not re.fullmatch(
        r"[A-Za-z0-9_-]{1,256}", settings.webhook_secret
    ):
        raise ConfigurationError(
            "AFISHA_WEBHOOK_SECRET may only hold 1-256 characters of A-Z, a-z, 0-9, _ and -"
        )
    if not 0 < settings.web_port < 65536:
        raise ConfigurationError(f"web_port {settings.web_port} is not a TCP port")


def write_settings(settings: Settings, path: Path) -> None:
    """Write the settings file (mode 0600: it holds the secret key)."""
    data = {k: v for k, v in asdict(settings).items() if v is not None and k != "source"}
    path.write_text(tomli_w.dumps({"afisha": data}), encoding="utf-8")
    path.chmod(0o600)
