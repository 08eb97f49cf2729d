"""Field expansion parsing, and every object the emulator returns checked against Meta's specs."""

from __future__ import annotations

import json
from typing import Any

import facebook
import pytest

from sandbox.graph_errors import GraphError
from sandbox.graph_spec import conformance_problems, node, parse_fields
from sandbox.runner import SandboxThread
from tests.sandbox import graph_fixtures
from tests.sandbox.graph_fixtures import ImageServer, advance

image_server = graph_fixtures.image_server
graph_url = graph_fixtures.graph_url
page_graph = graph_fixtures.page_graph


def every_field(node_type: str) -> str:
    return ",".join(node(node_type).fields)


def test_parse_modifiers_and_nested_fields() -> None:
    parsed = parse_fields("reactions.summary(total_count).limit(0),insights.metric(a,b),from{id}")

    assert [(f.name, f.modifiers) for f in parsed] == [
        ("reactions", {"summary": "total_count", "limit": "0"}),
        ("insights", {"metric": "a,b"}),
        ("from", {}),
    ]
    assert [c.name for c in parsed[2].children] == ["id"]


@pytest.mark.parametrize("text", ["a{b", "a.limit", "a.limit(0", "a b", "a,,b"])
def test_parse_errors_are_code_100(text: str) -> None:
    with pytest.raises(GraphError) as caught:
        parse_fields(text)

    assert caught.value.code == 100


def test_conformance_check_catches_wrong_types_and_unknown_fields() -> None:
    problems = conformance_problems(
        "PagePost", {"id": "1_2", "created_time": "yesterday", "like_count": 3}
    )

    assert len(problems) == 2


def test_every_returned_object_is_documented(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    fixtures = sandbox.sandbox.fixtures
    page, ig = fixtures.pages[0].id, fixtures.instagram[0].id
    ig_graph = graph_fixtures.client(fixtures.instagram[0].access_token)
    post = page_graph.put_object(page, "feed", message="Spec", link="https://lib.example/")["id"]
    photo = page_graph.put_object(page, "photos", url=image_server.url("/poster.jpg"))
    container = ig_graph.put_object(ig, "media", image_url=image_server.url("/poster.jpg"))["id"]
    processing = ig_graph.get_object(container, fields="id,status,status_code")
    graph_fixtures.on_loop(sandbox, lambda s: s.configure_processing({"fail_next": 1}))
    failing = ig_graph.put_object(ig, "media", image_url=image_server.url("/poster.jpg"))["id"]
    advance(sandbox, 10)
    container_read = ig_graph.get_object(container, fields="id,status,status_code")
    failed = ig_graph.get_object(failing, fields="id,status,status_code")
    assert [c["status_code"] for c in (processing, container_read, failed)] == [
        "IN_PROGRESS",
        "FINISHED",
        "ERROR",
    ]
    media = ig_graph.put_object(ig, "media_publish", creation_id=container)["id"]
    advance(sandbox, 30 * 3600)
    post_edges = (
        "reactions.summary(true),comments.summary(true),likes.summary(true),"
        "insights.metric(post_clicks)"
    )

    returned: list[tuple[str, dict[str, Any]]] = [
        ("Page", page_graph.get_object(page, fields=every_field("Page"))),
        ("PagePost", page_graph.get_object(post, fields=every_field("PagePost"))),
        ("PagePost", page_graph.get_object(post, fields=post_edges)),
        ("PagePost", page_graph.get_object(photo["post_id"], fields=every_field("PagePost"))),
        ("Photo", page_graph.get_object(photo["id"], fields=every_field("Photo"))),
        ("IGUser", ig_graph.get_object(ig, fields=every_field("IGUser"))),
        ("IGMedia", ig_graph.get_object(media, fields=every_field("IGMedia"))),
        ("IGMedia", ig_graph.get_object(media, fields="children,insights.metric(reach)")),
        ("ShadowIGMediaBuilder", container_read),
        ("ShadowIGMediaBuilder", processing),
        ("ShadowIGMediaBuilder", failed),
    ]
    limit = ig_graph.get_connections(ig, "content_publishing_limit", fields="quota_usage,config")
    returned += [("ContentPublishingLimitResponse", d) for d in limit["data"]]
    insights = page_graph.get_connections(
        post, "insights", metric="post_media_view,post_reactions_by_type_total"
    )
    returned += [("InsightsResult", d) for d in insights["data"]]
    ig_insights = ig_graph.get_connections(media, "insights", metric="likes,views")
    returned += [("InstagramInsightsResult", d) for d in ig_insights["data"]]
    listing = page_graph.get_connections(page, "posts", fields=every_field("PagePost"))
    returned += [("PagePost", d) for d in listing["data"]]

    problems = [p for node_type, obj in returned for p in conformance_problems(node_type, obj)]
    assert problems == []
    assert len(returned[1][1]) > 8, json.dumps(returned[1][1])  # a real check, not a vacuous one
