"""Pacing shared by every worker on one PostgreSQL database: the platforms count a bot's, a
chat's, a Page's sends whichever worker made them.

Each rate key's window (scheduler.limits._Window) is a row of `pacing_window`. A batch of sends
is booked in one transaction of two statements: one that locks and reads the rows of the
batch's keys (in key order, so workers never deadlock), and one update writing them back;
what is booked in between is decided by the same window code as a process pacing alone. A
send booked here counts as "flying" until its answer is told (`done`, sent along with the next
booking or flush), so a send another worker has under way holds its slot however long it
takes; a worker that stops mid-send frees it after limits.FLIGHT_MAX. Between bookings, the
claim reads again the windows it has full (`refresh`, at most every REFRESH_SECONDS), so a
channel passed over for want of room is claimed again once another worker's sends free it.
SQLite runs one worker, which paces alone (make_pacer).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, text
from sqlalchemy import Engine as SqlEngine

from scheduler.clock import Clock
from scheduler.limits import POLL_SECONDS, Pacer, Rate, _Window

log = logging.getLogger(__name__)
# How often a claim reads the other workers' sends at most.
REFRESH_SECONDS = 0.1

_LOCK = text(
    "SELECT key, state FROM pacing_window WHERE key = ANY(CAST(:keys AS text[])) "
    "ORDER BY key FOR UPDATE"
)
_ADD = text(
    "INSERT INTO pacing_window (key, state) "
    "SELECT k, CAST('{}' AS json) FROM unnest(CAST(:keys AS text[])) AS k ORDER BY k "
    "ON CONFLICT (key) DO NOTHING"
)
_WRITE = text(
    "UPDATE pacing_window AS w SET state = v.value::json "
    "FROM jsonb_each(CAST(:windows AS jsonb)) AS v WHERE w.key = v.key"
)
_READ = text("SELECT key, state FROM pacing_window WHERE key = ANY(CAST(:keys AS text[]))")
# What a worker books is worth keeping only while its windows last (seconds, a minute): its
# commits need not wait for the disk, which would hold the event loop for milliseconds. Set on
# the pacer's own connection, and reset before the connection goes back to the pool.
_QUICK_COMMITS = text("SET synchronous_commit TO OFF")
_USUAL_COMMITS = text("RESET synchronous_commit")


def make_pacer(database: SqlEngine, clock: Clock, enabled: bool = True) -> Pacer:
    """The pacer for a worker on `database`: shared on PostgreSQL, its own on SQLite."""
    if database.dialect.name == "postgresql":
        return SharedPacer(database, clock, enabled)
    return Pacer(clock, enabled)


def _loaded(rate: Rate, state: Mapping[str, Any] | None) -> _Window:
    window = _Window(rate)
    state = state or {}
    window.sent.extend(sorted(float(t) for t in state.get("sent", ())))
    window.flying = sorted(float(t) for t in state.get("flying", ()))
    window.blocked_until = float(state.get("blocked", 0.0))
    return window


def _state(window: _Window) -> dict[str, Any]:
    return {"sent": list(window.sent), "flying": window.flying, "blocked": window.blocked_until}


class SharedPacer(Pacer):
    """A Pacer whose windows live in PostgreSQL; the local copies are what the claim reads."""

    def __init__(self, database: SqlEngine, clock: Clock, enabled: bool = True) -> None:
        super().__init__(clock, enabled)
        self.database = database
        self._rates: dict[str, Rate] = {}
        # What this worker learnt and has not told yet: answers (key, booked, answered), pauses.
        self._answers: list[tuple[str, float, float]] = []
        self._blocks: dict[str, float] = {}
        self._read_at = -1e18  # when the windows were last read (clock seconds)
        self._connection: Connection | None = None
        self._present: set[str] = set()  # keys whose rows exist

    def _window(self, rate: Rate) -> _Window:
        self._rates.setdefault(rate.key, rate)
        return super()._window(rate)

    # --- the Pacer's operations that others must see ---------------------------------------------

    def book_batch(self, batch: Sequence[list[Rate]]) -> list[float | None]:
        if not self.enabled or not any(batch):
            return super().book_batch(batch)
        now = self._time()
        if now - self._read_at < POLL_SECONDS and all(self.available(r) <= 0 for r in batch):
            return [None] * len(batch)  # just read: nothing freed since
        for rates in batch:
            for rate in rates:
                self._rates.setdefault(rate.key, rate)
        keys = {rate.key for rates in batch for rate in rates}
        booked: list[float | None] = []

        def book(windows: dict[str, _Window], now: float) -> None:
            for rates in batch:
                mine = [windows[rate.key] for rate in rates]
                if all(window.available(now) > 0 for window in mine):
                    for window in mine:
                        window.book_flying(now)
                    booked.append(now)
                else:
                    booked.append(None)

        self._exchange(keys, book)
        return booked

    def done(self, rates: list[Rate], booked: float) -> None:
        super().done(rates, booked)
        if self.enabled and booked:
            now = self._time()
            self._answers.extend((rate.key, booked, now) for rate in rates)

    def block(self, rates: list[Rate], seconds: float) -> None:
        super().block(rates, seconds)
        until = self._time() + seconds
        for rate in rates:
            self._rates.setdefault(rate.key, rate)
            self._blocks[rate.key] = max(self._blocks.get(rate.key, 0.0), until)
        self.flush()

    def flush(self) -> None:
        """Tell the answers and pauses learnt since the last booking."""
        if self.enabled and (self._answers or self._blocks):
            self._exchange(set(), lambda _windows, _now: None)

    def refresh(self, rates: Iterable[Rate] = ()) -> None:
        """Read again the windows, among `rates` and the keys known here, that the local copy
        has full (no lock; not if read just now): another worker's answers may have freed
        them. A window with room here is left: a booking finds out if others took it."""
        now = self._time()
        if not self.enabled or now - self._read_at < REFRESH_SECONDS:
            return
        for rate in rates:
            self._rates.setdefault(rate.key, rate)
        full = sorted(
            key for key, rate in self._rates.items() if self._window(rate).available(now) <= 0
        )
        if not full:
            return
        connection = self._connect()
        try:
            rows = connection.execute(_READ, {"keys": full}).all()
            connection.rollback()
        except Exception:
            self._drop(connection)
            raise
        self._take(rows)
        self._read_at = now

    # --- the shared table ------------------------------------------------------------------------

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.closed:
            connection = self.database.connect()
            connection.execute(_QUICK_COMMITS)
            connection.commit()
            self._connection = connection
        return self._connection

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.execute(_USUAL_COMMITS)
                connection.commit()
            except Exception:
                # Thrown away rather than back to the pool with our setting; nothing is lost.
                log.info("the pacer's connection could not be reset; discarded", exc_info=True)
                connection.invalidate()
            finally:
                connection.close()

    def _drop(self, connection: Connection) -> None:
        connection.invalidate()
        connection.close()
        self._connection = None

    def _exchange(self, keys: set[str], act: Callable[[dict[str, _Window], float], None]) -> None:
        """Lock the windows of `keys` and of what there is to tell, apply what this worker
        learnt, let `act(windows, now)` book, and write them back: one transaction."""
        wanted = sorted(keys | {key for key, _, _ in self._answers} | set(self._blocks))
        connection = self._connect()
        try:
            new = [key for key in wanted if key not in self._present]
            if new:  # their rows first, committed before any lock is taken: no deadlock
                with connection.begin():
                    connection.execute(_ADD, {"keys": new})
                self._present.update(new)
            with connection.begin():
                windows = self._take(connection.execute(_LOCK, {"keys": wanted}).all())
                now = self._time()
                act(windows, now)
                for window in windows.values():
                    window._prune(now)
                document = {key: _state(window) for key, window in windows.items()}
                connection.execute(_WRITE, {"windows": json.dumps(document)})
        except Exception:
            self._drop(connection)
            raise
        self._answers.clear()
        self._blocks.clear()
        self._read_at = self._time()

    def _take(self, rows: Iterable[Any]) -> dict[str, _Window]:
        """The windows read, with what this worker has not told yet applied; they replace the
        local copies."""
        windows: dict[str, _Window] = {}
        for key, state in rows:
            rate = self._rates.get(key)
            if rate is not None:
                windows[key] = _loaded(rate, state)
        for key, booked, answered in self._answers:
            if key in windows:
                windows[key].done(booked, answered)
        for key, until in self._blocks.items():
            if key in windows:
                windows[key].blocked_until = max(windows[key].blocked_until, until)
        self._windows.update(windows)
        return windows
