"""The client library's own ceiling: python-telegram-bot `send_message` against the sandbox.

Run as a process of its own (`python -m bench.ceiling --count N --concurrency C`), sending plain
messages from C concurrent tasks with no database and no engine: what the engine's throughput
is compared with. The Bot is built the way Afisha's Telegram channels build it (small pools,
channels.telegram_pools) or, with `--stock`, with PTB's own `HTTPXRequest` of one pool of the
same size: the ceiling is the best of both. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time

from telegram import Bot
from telegram.request import HTTPXRequest

from channels.telegram import TelegramBots, TelegramChannel, TelegramTimeouts


async def measure(
    api_url: str, token: str, chats: list[int], count: int, concurrency: int, stock: bool
) -> dict[str, float]:
    bots = TelegramBots()
    channel = TelegramChannel(token, api_url, chats[0], bots=bots)
    bot = channel.bot
    if stock:
        timeouts = TelegramTimeouts()
        request = HTTPXRequest(
            connection_pool_size=timeouts.connections,
            connect_timeout=timeouts.connect,
            read_timeout=timeouts.read,
            write_timeout=timeouts.write,
            pool_timeout=timeouts.pool,
        )
        bot = Bot(token, base_url=f"{api_url}/bot", request=request, get_updates_request=request)
    numbers = itertools.count()
    await bot.send_message(chats[0], "warm-up")

    async def sender() -> None:
        while (i := next(numbers)) < count:
            await bot.send_message(chats[i % len(chats)], f"ceiling {i}")

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await channel.close()
    if stock:
        await request.shutdown()
    return {"sent": count, "seconds": elapsed, "per_second": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description="PTB send_message ceiling against a sandbox.")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chats", required=True, help="comma-separated chat ids")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--stock", action="store_true", help="PTB's HTTPXRequest, one pool")
    args = parser.parse_args()
    chats = [int(c) for c in args.chats.split(",")]
    result = asyncio.run(
        measure(args.api_url, args.token, chats, args.count, args.concurrency, args.stock)
    )
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
