"""Batch requests and multi-id reads: many Graph operations for one HTTP call."""

from __future__ import annotations

import json
from typing import Any

import facebook
import pytest

from sandbox.runner import SandboxThread
from tests.sandbox import graph_fixtures
from tests.sandbox.graph_fixtures import advance, on_loop

graph_url = graph_fixtures.graph_url
page_graph = graph_fixtures.page_graph

ENGAGEMENT = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"


def batch(api: facebook.GraphAPI, items: list[dict[str, Any]], **extra: str) -> Any:
    return api.request("v21.0/", post_args={"batch": json.dumps(items), **extra})


def post_many(sandbox: SandboxThread, api: facebook.GraphAPI, count: int) -> list[str]:
    page = sandbox.sandbox.fixtures.pages[0].id
    ids: list[str] = []
    for start in range(0, count, 50):
        items = [
            {"method": "POST", "relative_url": f"v21.0/{page}/feed", "body": f"message=post {n}"}
            for n in range(start, min(start + 50, count))
        ]
        ids += [json.loads(answer["body"])["id"] for answer in batch(api, items)]
    return ids


def http_calls(sandbox: SandboxThread) -> int:
    return int(on_loop(sandbox, lambda s: s.http_calls))


def test_batch_publishes_each_item_once(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    before = http_calls(sandbox)

    ids = post_many(sandbox, page_graph, 50)

    assert http_calls(sandbox) - before == 1
    assert sandbox.sandbox.ledger.calls["graph.batch"] == 1
    assert sorted(i.remote_id for i in sandbox.sandbox.ledger.items) == sorted(ids)


def test_batch_answers_code_headers_and_body_string(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    post_id = post_many(sandbox, page_graph, 1)[0]

    answers = batch(
        page_graph,
        [
            {"method": "GET", "relative_url": f"{post_id}?fields=message"},
            {"method": "GET", "relative_url": f"{post_id}?fields=nonsense"},
        ],
    )

    assert answers[0]["code"] == 200
    assert json.loads(answers[0]["body"]) == {"message": "post 0", "id": post_id}
    names = {h["name"] for h in answers[0]["headers"]}
    assert {"Content-Type", "X-App-Usage", "X-Business-Use-Case-Usage"} <= names
    assert answers[1]["code"] == 400  # errors inside a batch are answers, not exceptions
    assert json.loads(answers[1]["body"])["error"]["code"] == 100


def test_batch_without_headers(sandbox: SandboxThread, page_graph: facebook.GraphAPI) -> None:
    answers = batch(page_graph, [{"method": "GET", "relative_url": "me"}], include_headers="false")

    assert set(answers[0]) == {"code", "body"}


def test_batch_over_fifty_is_refused(sandbox: SandboxThread, page_graph: facebook.GraphAPI) -> None:
    items = [{"method": "GET", "relative_url": "me"}] * 51

    with pytest.raises(facebook.GraphAPIError) as caught:
        batch(page_graph, items)

    assert "Maximum batch size is 50" in str(caught.value)
    assert caught.value.type == "GraphBatchException"


def test_batch_items_count_against_the_pages_budget(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    page = sandbox.sandbox.fixtures.pages[0].id
    on_loop(sandbox, lambda s: s.set_call_budget(page, 10))

    answers = batch(page_graph, [{"method": "GET", "relative_url": "me"}] * 12)

    assert [a["code"] for a in answers] == [200] * 10 + [400] * 2
    assert json.loads(answers[-1]["body"])["error"]["code"] == 80001


def test_engagement_of_120_posts_costs_three_calls(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    ids = post_many(sandbox, page_graph, 120)
    advance(sandbox, 12 * 3600)
    before = http_calls(sandbox)

    by_batch: dict[str, Any] = {}
    for start in range(0, 120, 50):
        chunk = ids[start : start + 50]
        answers = batch(
            page_graph,
            [{"method": "GET", "relative_url": f"{i}?fields={ENGAGEMENT}"} for i in chunk],
        )
        by_batch.update({i: json.loads(a["body"]) for i, a in zip(chunk, answers, strict=True)})

    assert http_calls(sandbox) - before == 3
    assert len(by_batch) == 120
    assert all(b["reactions"]["summary"]["total_count"] >= 0 for b in by_batch.values())


def test_multi_id_read(sandbox: SandboxThread, page_graph: facebook.GraphAPI) -> None:
    ids = post_many(sandbox, page_graph, 3)
    before = http_calls(sandbox)

    objects = page_graph.get_objects(ids, fields="message")

    assert http_calls(sandbox) - before == 1
    assert [objects[i]["message"] for i in ids] == ["post 0", "post 1", "post 2"]
    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.get_objects([*ids, "999"])
    assert caught.value.code == 100
