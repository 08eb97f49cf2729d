"""The client library's own ceiling: python-telegram-bot `send_message` against the sandbox.

Run as a process of its own (`python -m bench.ceiling --count N --concurrency C`), built the
way Afisha's Telegram channels build their Bot (same HTTP pool and timeouts), sending plain
messages from C concurrent tasks with no database and no engine: what the engine's throughput
is compared with. Prints one JSON line.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import sys
import time

from channels.telegram import TelegramBots, TelegramChannel


async def measure(
    api_url: str, token: str, chats: list[int], count: int, concurrency: int
) -> dict[str, float]:
    bots = TelegramBots()
    channel = TelegramChannel(token, api_url, chats[0], bots=bots)
    bot = channel.bot
    numbers = itertools.count()
    await bot.send_message(chats[0], "warm-up")

    async def sender() -> None:
        while (i := next(numbers)) < count:
            await bot.send_message(chats[i % len(chats)], f"ceiling {i}")

    started = time.perf_counter()
    await asyncio.gather(*(sender() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    await channel.close()
    return {"sent": count, "seconds": elapsed, "per_second": count / elapsed}


def main() -> None:
    parser = argparse.ArgumentParser(description="PTB send_message ceiling against a sandbox.")
    parser.add_argument("--api-url", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--chats", required=True, help="comma-separated chat ids")
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--concurrency", type=int, default=50)
    args = parser.parse_args()
    chats = [int(c) for c in args.chats.split(",")]
    result = asyncio.run(measure(args.api_url, args.token, chats, args.count, args.concurrency))
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
