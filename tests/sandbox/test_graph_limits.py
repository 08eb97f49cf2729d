"""Usage headers, throttling codes and injected faults as facebook-sdk and requests see them."""

from __future__ import annotations

import json

import facebook
import pytest
import requests

from sandbox.runner import SandboxThread
from tests.sandbox import graph_fixtures
from tests.sandbox.graph_fixtures import ImageServer, advance, client, on_loop

image_server = graph_fixtures.image_server
graph_url = graph_fixtures.graph_url
page_graph = graph_fixtures.page_graph
ig_graph = graph_fixtures.ig_graph


def page_id(sandbox: SandboxThread) -> str:
    return sandbox.sandbox.fixtures.pages[0].id


def raw_get(sandbox: SandboxThread, graph_url: str, path: str) -> requests.Response:
    token = sandbox.sandbox.fixtures.pages[0].access_token
    return requests.get(f"{graph_url}v21.0/{path}", params={"access_token": token}, timeout=5)


def buc(response: requests.Response, owner: str) -> dict[str, int]:
    entry: dict[str, int] = json.loads(response.headers["X-Business-Use-Case-Usage"])[owner][0]
    return entry


def force(sandbox: SandboxThread, op: str, kind: str) -> None:
    sandbox.call(lambda: sandbox.sandbox.faults.force(op, kind))


def test_usage_headers_count_calls_in_the_window(sandbox: SandboxThread, graph_url: str) -> None:
    on_loop(sandbox, lambda s: s.set_call_budget(page_id(sandbox), 10))

    responses = [raw_get(sandbox, graph_url, page_id(sandbox)) for _ in range(3)]
    advance(sandbox, 3601)
    after_window = raw_get(sandbox, graph_url, page_id(sandbox))

    assert [buc(r, page_id(sandbox))["call_count"] for r in responses] == [10, 20, 30]
    assert buc(responses[0], page_id(sandbox))["type"] == "pages"
    assert set(json.loads(responses[0].headers["X-App-Usage"])) == {
        "call_count",
        "total_cputime",
        "total_time",
    }
    assert buc(after_window, page_id(sandbox))["call_count"] == 10


def test_page_budget_exhausted_is_80001_until_the_window_passes(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, graph_url: str
) -> None:
    on_loop(sandbox, lambda s: s.set_call_budget(page_id(sandbox), 2))
    page_graph.get_object("me")
    page_graph.get_object("me")

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.put_object(page_id(sandbox), "feed", message="over budget")
    throttled = raw_get(sandbox, graph_url, page_id(sandbox))

    assert caught.value.code == 80001
    assert caught.value.result["error"]["is_transient"] is True
    usage = buc(throttled, page_id(sandbox))
    assert usage["call_count"] >= 100
    assert usage["estimated_time_to_regain_access"] > 0
    assert sandbox.sandbox.ledger.items == []

    advance(sandbox, 3601)
    page_graph.put_object(page_id(sandbox), "feed", message="fine again")


def test_unlimited_budget_never_throttles(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    on_loop(sandbox, lambda s: s.set_call_budget(None, None))

    for _ in range(30):
        page_graph.get_object("me")


def test_app_budget_is_code_4_with_403(sandbox: SandboxThread, graph_url: str) -> None:
    on_loop(sandbox, lambda s: s.set_app_budget(1))
    raw_get(sandbox, graph_url, page_id(sandbox))

    response = raw_get(sandbox, graph_url, page_id(sandbox))

    assert response.status_code == 403
    assert response.json()["error"]["code"] == 4
    assert json.loads(response.headers["X-App-Usage"])["call_count"] == 200


def test_injected_429_for_a_page_and_for_instagram(
    sandbox: SandboxThread, graph_url: str, ig_graph: facebook.GraphAPI
) -> None:
    force(sandbox, "read", "429")
    page_response = raw_get(sandbox, graph_url, page_id(sandbox))
    force(sandbox, "read", "429")
    ig = sandbox.sandbox.fixtures.instagram[0].id

    with pytest.raises(facebook.GraphAPIError) as caught:
        ig_graph.get_object(ig)

    assert page_response.json()["error"]["code"] == 80001
    assert buc(page_response, page_id(sandbox))["call_count"] >= 100
    assert caught.value.code == 80002


@pytest.mark.parametrize("code", [4, 17, 32, 613])
def test_configured_throttle_codes(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, code: int
) -> None:
    on_loop(sandbox, lambda s: s.set_throttle_code(page_id(sandbox), code))
    force(sandbox, "feed", "429")

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.put_object(page_id(sandbox), "feed", message="x")

    assert caught.value.code == code
    assert str(caught.value).startswith(f"(#{code})")


def test_injected_5xx_is_a_transient_500(sandbox: SandboxThread, graph_url: str) -> None:
    force(sandbox, "read", "5xx")

    response = raw_get(sandbox, graph_url, page_id(sandbox))

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] in (1, 2)
    assert error["is_transient"] is True


def test_drop_before_records_nothing(sandbox: SandboxThread, page_graph: facebook.GraphAPI) -> None:
    force(sandbox, "feed", "drop_before")

    with pytest.raises(requests.ConnectionError):
        page_graph.put_object(page_id(sandbox), "feed", message="lost")

    assert sandbox.sandbox.ledger.items == []


def test_drop_after_records_then_drops(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    force(sandbox, "feed", "drop_after")

    with pytest.raises(requests.ConnectionError):
        page_graph.put_object(page_id(sandbox), "feed", message="did it post?")

    assert [i.text for i in sandbox.sandbox.ledger.items] == ["did it post?"]


def test_drop_after_on_media_publish(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    ig = sandbox.sandbox.fixtures.instagram[0].id
    container = ig_graph.put_object(ig, "media", image_url=image_server.url("/poster.jpg"))["id"]
    advance(sandbox, 10)
    force(sandbox, "media_publish", "drop_after")

    with pytest.raises(requests.ConnectionError):
        ig_graph.put_object(ig, "media_publish", creation_id=container)

    status = ig_graph.get_object(container, fields="status_code")["status_code"]
    assert status == "PUBLISHED"  # a client can find out that it did post
    assert len(sandbox.sandbox.ledger.items) == 1


def test_slow_answer_times_the_client_out(sandbox: SandboxThread, graph_url: str) -> None:
    sandbox.call(lambda: setattr(sandbox.sandbox.faults, "slow_seconds", 0.6))
    force(sandbox, "read", "slow")
    impatient = client(sandbox.sandbox.fixtures.pages[0].access_token, timeout=0.2)

    with pytest.raises(requests.Timeout):
        impatient.get_object("me")


def test_admin_api_sets_graph_limits_and_revokes(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, ig_graph: facebook.GraphAPI
) -> None:
    admin = sandbox.base_url + "/_sandbox/"
    body = {"graph_page_budget": 1, "ig_quota": 7}
    assert requests.post(admin + "limits", json=body, timeout=5).status_code == 200
    ig = sandbox.sandbox.fixtures.instagram[0].id
    limit = ig_graph.get_connections(ig, "content_publishing_limit", fields="config")
    page_graph.get_object("me")

    with pytest.raises(facebook.GraphAPIError) as throttled:
        page_graph.get_object("me")
    token = sandbox.sandbox.fixtures.pages[0].access_token
    requests.post(admin + "revoke", json={"token": token}, timeout=5)
    with pytest.raises(facebook.GraphAPIError) as revoked:
        page_graph.get_object("me")

    assert limit["data"][0]["config"]["quota_total"] == 7
    assert throttled.value.code == 80001
    assert revoked.value.code == 190


def test_admin_clock_advance_publishes_due_scheduled_posts(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    at = sandbox.sandbox.clock.now().timestamp() + 3600
    page_graph.put_object(
        page_id(sandbox),
        "feed",
        message="later",
        published="false",
        scheduled_publish_time=str(int(at)),
    )

    requests.post(sandbox.base_url + "/_sandbox/clock/advance", json={"seconds": 3601}, timeout=5)

    assert [i.text for i in sandbox.sandbox.ledger.items] == ["later"]
