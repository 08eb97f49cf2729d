"""PTB's `HTTPXRequest`, split into small connection pools chosen by load.

httpcore's connection pool walks every connection and every waiting request each time a request
starts or ends, so the CPU it spends per request grows with the requests in flight: against the
sandbox, 20 concurrent `send_message` calls from one pool cost about 1.7 times the CPU per message
of the same calls spread over pools of a few connections each (bench/PROFILING.md). A `BaseRequest`
is python-telegram-bot's documented extension point; this one hands each request to the least
busy of several `HTTPXRequest`s, opening another (up to the connection budget) only when all
that exist are full, so a quiet bot keeps one small pool.
"""

from __future__ import annotations

import math
import ssl
from functools import cache

import httpx
from telegram._utils.types import ODVInput
from telegram.request import BaseRequest, HTTPXRequest, RequestData

# Connections per pool: a scan of a few connections is cheap; more pools cost memory.
CONNECTIONS_PER_POOL = 4


@cache
def _tls_context() -> ssl.SSLContext:
    """One TLS context for every pool (each httpx client would otherwise load the CA bundle)."""
    return httpx.create_ssl_context()


class PooledRequest(BaseRequest):
    """Up to `connections` connections, in pools of `per_pool`, opened as load requires."""

    def __init__(
        self,
        connections: int,
        *,
        per_pool: int = CONNECTIONS_PER_POOL,
        connect_timeout: float | None,
        read_timeout: float | None,
        write_timeout: float | None,
        pool_timeout: float | None,
        media_write_timeout: float | None,
    ) -> None:
        self._per_pool = max(1, min(per_pool, connections))
        self._most = max(1, math.ceil(connections / self._per_pool))
        self._timeouts = {
            "connect_timeout": connect_timeout,
            "read_timeout": read_timeout,
            "write_timeout": write_timeout,
            "pool_timeout": pool_timeout,
            "media_write_timeout": media_write_timeout,
        }
        self._pools: list[HTTPXRequest] = []
        self._busy: list[int] = []  # requests in flight per pool
        self._closed = False
        self._open_pool()

    @property
    def pools(self) -> int:
        """How many pools are open."""
        return len(self._pools)

    def _open_pool(self) -> int:
        self._pools.append(
            HTTPXRequest(
                connection_pool_size=self._per_pool,
                httpx_kwargs={"verify": _tls_context()},
                **self._timeouts,  # type: ignore[arg-type]
            )
        )
        self._busy.append(0)
        return len(self._pools) - 1

    def _pick(self) -> int:
        index = min(range(len(self._busy)), key=self._busy.__getitem__)
        full = self._busy[index] >= self._per_pool
        if full and len(self._pools) < self._most and not self._closed:
            return self._open_pool()
        return index

    @property
    def read_timeout(self) -> float | None:
        return self._pools[0].read_timeout

    async def initialize(self) -> None:
        self._closed = False
        for pool in self._pools:
            await pool.initialize()

    async def shutdown(self) -> None:
        self._closed = True
        for pool in self._pools:
            await pool.shutdown()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        index = self._pick()
        self._busy[index] += 1
        try:
            return await self._pools[index].do_request(
                url,
                method,
                request_data,
                read_timeout=read_timeout,
                write_timeout=write_timeout,
                connect_timeout=connect_timeout,
                pool_timeout=pool_timeout,
            )
        finally:
            self._busy[index] -= 1
