"""Downloading an image a plan names by URL, with a size limit and a timeout."""

from __future__ import annotations

import hashlib
import urllib.error
import urllib.request
from pathlib import Path

from content.errors import InvalidInput
from content.storage.media import MAX_BYTES

TIMEOUT = 20.0


def download_image(
    url: str, directory: Path, *, max_bytes: int = MAX_BYTES, timeout: float = TIMEOUT
) -> Path:
    """Fetch `url` (http or https) into `directory`; InvalidInput when it cannot be had.

    The file is only downloaded here; `content.storage.media.inspect_image` checks it is an image.
    """
    if not url.lower().startswith(("http://", "https://")):
        raise InvalidInput("{link!r} is not a web link: start it with https://", link=url)
    request = urllib.request.Request(url, headers={"User-Agent": "Afisha"})  # noqa: S310 - http(s) only
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            data = response.read(max_bytes + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        if isinstance(exc, urllib.error.HTTPError):
            exc.close()  # an HTTP error carries the open response: release its socket
        reason = getattr(exc, "reason", None) or exc.__class__.__name__
        raise InvalidInput(
            "could not download {url}: {reason}", url=url, reason=str(reason)
        ) from None
    if len(data) > max_bytes:
        raise InvalidInput(
            "the image at {url} is larger than {limit} MB: make it smaller",
            url=url,
            limit=max_bytes // 1024 // 1024,
        )
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / hashlib.sha256(url.encode()).hexdigest()
    target.write_bytes(data)
    return target
