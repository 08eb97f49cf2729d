"""The sandbox's public Instagram web (what instaloader reads logged out) and the permissions a
Graph token may lack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from channels.base import Outgoing
from sandbox.instagram_web import LSD_TOKEN, POST_QUERY
from sandbox.runner import SandboxThread
from tests.channels.graph_helpers import instagram_channel, stored_image

NAVIGATE = {"Sec-Fetch-Mode": "navigate", "Accept": "text/html"}


@pytest.fixture
def web(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.base_url}/instagram-web") as client:
        yield client


@pytest.fixture
def admin(sandbox: SandboxThread) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=f"{sandbox.base_url}/_sandbox/") as client:
        yield client


def _post(web: httpx.Client, shortcode: str, **form: str) -> httpx.Response:
    data = {
        "lsd": LSD_TOKEN,
        "doc_id": POST_QUERY,
        "variables": json.dumps({"shortcode": shortcode}),
    }
    return web.post("/api/graphql", data={**data, **form})


def test_start_page_hands_out_the_tokens_a_visitor_sends_back(web: httpx.Client) -> None:
    page = web.get("/")
    assert page.status_code == 200
    assert f'"token":"{LSD_TOKEN}"' in page.text
    assert page.cookies.get("csrftoken")


def test_post_query_answers_the_counts_and_says_when_they_are_hidden(
    web: httpx.Client, admin: httpx.Client
) -> None:
    item = _post(web, "DistPost02").json()["data"]["xdt_api__v1__media__shortcode__web_info"]
    video = item["items"][0]
    assert (video["code"], video["media_type"], video["like_and_view_counts_disabled"]) == (
        "DistPost02",
        2,
        False,
    )
    assert video["view_count"] >= 0
    assert admin.post("instagram/hide_counts", json={"shortcode": "DistPost02"}).status_code == 200
    hidden = _post(web, "DistPost02").json()["data"]["xdt_api__v1__media__shortcode__web_info"]
    assert hidden["items"][0]["like_and_view_counts_disabled"] is True
    assert hidden["items"][0]["like_count"] == 0
    assert hidden["items"][0]["view_count"] is None
    unknown = admin.post("instagram/hide_counts", json={"shortcode": "NoSuchPost"})
    assert unknown.status_code == 400


@pytest.mark.parametrize(
    ("form", "reason"),
    [
        ({"lsd": "forged"}, "lsd"),
        ({"doc_id": "123"}, "Unsupported query"),
        ({"variables": "{not json"}, "shortcode"),
    ],
)
def test_malformed_queries_are_refused(
    web: httpx.Client, form: dict[str, str], reason: str
) -> None:
    answer = _post(web, "DistPost01", **form)
    assert answer.status_code == 400
    assert reason in answer.json()["message"]


def test_an_unknown_shortcode_has_no_items(web: httpx.Client) -> None:
    answer = _post(web, "NoSuchPost").json()
    assert answer["data"]["xdt_api__v1__media__shortcode__web_info"]["items"] == []


def test_profile_pages_embed_the_profile_only_for_a_page_navigation(web: httpx.Client) -> None:
    page = web.get("/district_library/", headers=NAVIGATE)
    assert page.status_code == 200
    assert '"xig_user_by_username"' in page.text
    assert "DistPost04" in page.text
    assert "xig_user_by_username" not in web.get("/district_library/").text
    private = web.get("/closed_library/", headers=NAVIGATE).text
    assert '"is_private": true' in private
    assert "polaris_ordered_timeline_connection" not in private
    assert web.get("/nobody_here/", headers=NAVIGATE).status_code == 404


@pytest.fixture
async def media_id(sandbox: SandboxThread, tmp_path: Path) -> str:
    publisher = instagram_channel(sandbox)
    outgoing = Outgoing("p", (stored_image(tmp_path, "p.jpg"),))
    published = (await publisher.publish(outgoing)).remote_id
    await publisher.close()
    return published


def test_a_token_without_the_insights_permission_gets_code_10(
    sandbox: SandboxThread, admin: httpx.Client, media_id: str
) -> None:
    account = sandbox.sandbox.fixtures.instagram[0]
    graph = f"{sandbox.base_url}/graph/v21.0/{media_id}"
    params = {"access_token": account.access_token, "fields": "id,insights.metric(reach)"}
    assert httpx.get(graph, params=params).status_code == 200
    denied = {"token": account.access_token, "denied": ["instagram_manage_insights"]}
    assert admin.post("instagram/permissions", json=denied).status_code == 200
    answer = httpx.get(graph, params=params)
    assert answer.status_code == 400
    assert answer.json()["error"]["code"] == 10
    plain = {"access_token": account.access_token, "fields": "id,like_count"}
    assert httpx.get(graph, params=plain).status_code == 200
    no_basic = {**denied, "denied": ["instagram_basic"]}
    assert admin.post("instagram/permissions", json=no_basic).status_code == 200
    assert httpx.get(graph, params=plain).json()["error"]["code"] == 10
    bogus = admin.post("instagram/permissions", json={"token": "x", "denied": ["pages_read"]})
    assert bogus.status_code == 400
