"""The sandbox starts on a free port and answers over loopback."""

from __future__ import annotations

import json
import urllib.request

import pytest

from sandbox.faults import FaultInjector, FaultSpecError, parse_spec
from sandbox.runner import SandboxThread


def test_sandbox_thread_serves_on_loopback(sandbox: SandboxThread) -> None:
    assert sandbox.base_url.startswith("http://127.0.0.1:")
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(sandbox.base_url + "/no-such-path", timeout=5)  # noqa: S310
    assert err.value.code == 404
    err.value.close()


def test_fault_spec_parses_and_rejects_nonsense() -> None:
    assert parse_spec("sendMessage:429=0.2,5xx=0.1;*:drop_after=1") == {
        "sendMessage": {"429": 0.2, "5xx": 0.1},
        "*": {"drop_after": 1.0},
    }
    for bad in ("sendMessage", "x:boom=0.1", "x:429=2", "x:429=abc"):
        with pytest.raises(FaultSpecError):
            parse_spec(bad)


def test_faults_are_deterministic_under_the_seed() -> None:
    def run() -> list[str | None]:
        injector = FaultInjector(seed=7)
        injector.configure("sendMessage:429=0.3")
        return [injector.draw("sendMessage") for _ in range(50)]

    first = run()
    assert first == run()
    assert "429" in first
    assert None in first
    assert json.dumps(first)
