"""The Graph emulator's Instagram content publishing, driven by the real facebook-sdk."""

from __future__ import annotations

import facebook
import pytest
import requests

from sandbox.graph_state import DEFAULT_CAROUSEL_PROCESSING, DEFAULT_IMAGE_PROCESSING
from sandbox.runner import SandboxThread
from tests.sandbox import graph_fixtures
from tests.sandbox.graph_fixtures import ImageServer, advance, client, on_loop

image_server = graph_fixtures.image_server
graph_url = graph_fixtures.graph_url
ig_graph = graph_fixtures.ig_graph


def ig_id(sandbox: SandboxThread) -> str:
    return sandbox.sandbox.fixtures.instagram[0].id


def instagram_items(sandbox: SandboxThread) -> list[tuple[str, str, int]]:
    return [
        (i.remote_id, i.text, i.media_count)
        for i in sandbox.sandbox.ledger.items
        if i.platform == "instagram"
    ]


def status(api: facebook.GraphAPI, container: str) -> str:
    return str(api.get_object(container, fields="status_code,status")["status_code"])


def create(api: facebook.GraphAPI, user: str, **params: str) -> str:
    return str(api.put_object(user, "media", **params)["id"])


def publish_image(
    sandbox: SandboxThread, api: facebook.GraphAPI, server: ImageServer, caption: str
) -> str:
    container = create(api, ig_id(sandbox), image_url=server.url("/poster.jpg"), caption=caption)
    advance(sandbox, DEFAULT_IMAGE_PROCESSING)
    assert status(api, container) == "FINISHED"
    return str(api.put_object(ig_id(sandbox), "media_publish", creation_id=container)["id"])


def test_single_image_flow(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    container = create(
        ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"), caption="Hi #books"
    )

    polls = [status(ig_graph, container)]
    advance(sandbox, DEFAULT_IMAGE_PROCESSING)
    polls.append(status(ig_graph, container))
    media_id = ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=container)["id"]

    assert polls == ["IN_PROGRESS", "FINISHED"]
    assert status(ig_graph, container) == "PUBLISHED"
    media = ig_graph.get_object(
        media_id, fields="caption,media_type,media_url,permalink,timestamp,like_count"
    )
    assert media["caption"] == "Hi #books"
    assert media["media_type"] == "IMAGE"
    assert media["permalink"].startswith("https://www.instagram.com/p/")
    assert media["like_count"] == 0
    assert instagram_items(sandbox) == [(media_id, "Hi #books", 1)]


def test_container_finishes_with_sandbox_time_alone(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    container = create(ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"))
    with pytest.raises(facebook.GraphAPIError) as early:
        ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=container)

    advance(sandbox, 10)

    assert ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=container)["id"]
    assert (early.value.code, early.value.result["error"]["error_subcode"]) == (9007, 2207027)


def test_polling_does_not_hurry_a_container(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    container = create(ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"))

    polls = [status(ig_graph, container) for _ in range(5)]
    advance(sandbox, DEFAULT_IMAGE_PROCESSING - 0.5)
    polls.append(status(ig_graph, container))
    advance(sandbox, 0.5)

    assert polls == ["IN_PROGRESS"] * 6
    assert status(ig_graph, container) == "FINISHED"


def test_processing_times_are_set_through_the_admin_api(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    admin = f"{sandbox.base_url}/_sandbox/instagram/processing"
    before = requests.get(admin, timeout=5).json()
    answer = requests.post(
        admin, json={"image_seconds": 20, "carousel_seconds": 45}, timeout=5
    ).json()
    refused = requests.post(admin, json={"image_seconds": -1}, timeout=5)
    url = image_server.url("/poster.jpg")
    items = [create(ig_graph, ig_id(sandbox), image_url=url, is_carousel_item="true")] * 2
    carousel = create(ig_graph, ig_id(sandbox), media_type="CAROUSEL", children=",".join(items))
    seen = []
    for seconds in (19, 1, 44):  # the items finish after 20 s, the carousel after 45
        advance(sandbox, seconds)
        seen.append((status(ig_graph, items[0]), status(ig_graph, carousel)))

    assert before == {
        "image_seconds": DEFAULT_IMAGE_PROCESSING,
        "carousel_seconds": DEFAULT_CAROUSEL_PROCESSING,
        "fail_next": 0,
    }
    assert DEFAULT_IMAGE_PROCESSING < DEFAULT_CAROUSEL_PROCESSING
    assert (answer["image_seconds"], answer["carousel_seconds"]) == (20, 45)
    assert refused.status_code == 400
    assert "image_seconds" in refused.json()["error"]
    assert seen == [
        ("IN_PROGRESS", "IN_PROGRESS"),
        ("FINISHED", "IN_PROGRESS"),
        ("FINISHED", "FINISHED"),
    ]


def test_a_carousel_waits_for_its_slowest_item(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    url = image_server.url("/poster.jpg")
    on_loop(sandbox, lambda s: s.configure_processing({"image_seconds": 30, "carousel_seconds": 1}))
    slow = create(ig_graph, ig_id(sandbox), image_url=url, is_carousel_item="true")
    on_loop(sandbox, lambda s: s.configure_processing({"image_seconds": 1}))
    quick = create(ig_graph, ig_id(sandbox), image_url=url, is_carousel_item="true")
    carousel = create(ig_graph, ig_id(sandbox), media_type="CAROUSEL", children=f"{slow},{quick}")

    advance(sandbox, 5)
    early = (status(ig_graph, quick), status(ig_graph, carousel))
    advance(sandbox, 25)

    assert early == ("FINISHED", "IN_PROGRESS")
    assert status(ig_graph, carousel) == "FINISHED"


def test_a_container_made_to_fail_ends_in_error_with_its_subcode(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    url = image_server.url("/poster.jpg")
    on_loop(sandbox, lambda s: s.configure_processing({"fail_next": 1}))
    failing = create(ig_graph, ig_id(sandbox), image_url=url, is_carousel_item="true")
    fine = create(ig_graph, ig_id(sandbox), image_url=url, is_carousel_item="true")
    carousel = create(ig_graph, ig_id(sandbox), media_type="CAROUSEL", children=f"{failing},{fine}")
    during = status(ig_graph, failing)
    advance(sandbox, 30)

    read = ig_graph.get_object(failing, fields="status_code,status")
    with pytest.raises(facebook.GraphAPIError) as caught:
        ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=carousel)

    assert during == "IN_PROGRESS"  # an error shows only once processing is over
    assert read["status_code"] == "ERROR"
    assert "2207001" in read["status"]
    assert (status(ig_graph, fine), status(ig_graph, carousel)) == ("FINISHED", "ERROR")
    assert caught.value.code == 9007
    assert instagram_items(sandbox) == []


def test_publishing_twice_fails_and_records_once(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    container = create(ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"))
    advance(sandbox, 10)
    ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=container)

    with pytest.raises(facebook.GraphAPIError) as caught:
        ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=container)

    assert caught.value.code == 24
    assert len(instagram_items(sandbox)) == 1


def test_container_expires_after_a_day(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    container = create(ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"))

    advance(sandbox, 24 * 3600 + 1)

    assert status(ig_graph, container) == "EXPIRED"
    with pytest.raises(facebook.GraphAPIError) as caught:
        ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=container)
    assert caught.value.result["error"]["error_subcode"] == 2207020


def test_carousel_flow(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    children = [
        create(
            ig_graph,
            ig_id(sandbox),
            image_url=image_server.url("/poster.jpg"),
            is_carousel_item="true",
        )
        for _ in range(3)
    ]
    carousel = create(
        ig_graph, ig_id(sandbox), media_type="CAROUSEL", children=",".join(children), caption="3"
    )
    advance(sandbox, 10)

    media_id = ig_graph.put_object(ig_id(sandbox), "media_publish", creation_id=carousel)["id"]

    media = ig_graph.get_object(media_id, fields="media_type,children")
    assert media["media_type"] == "CAROUSEL_ALBUM"
    assert len(media["children"]["data"]) == 3
    assert instagram_items(sandbox) == [(media_id, "3", 3)]


@pytest.mark.parametrize("count", [1, 11])
def test_carousel_needs_two_to_ten_children(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer, count: int
) -> None:
    children = [
        create(
            ig_graph,
            ig_id(sandbox),
            image_url=image_server.url("/poster.jpg"),
            is_carousel_item="true",
        )
        for _ in range(count)
    ]

    with pytest.raises(facebook.GraphAPIError) as caught:
        create(ig_graph, ig_id(sandbox), media_type="CAROUSEL", children=",".join(children))

    assert caught.value.code == 100


@pytest.mark.parametrize("path", ["/poster.png", "/disguised.jpg", "/missing.jpg"])
def test_only_a_fetchable_jpeg_makes_a_container(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer, path: str
) -> None:
    with pytest.raises(facebook.GraphAPIError) as caught:
        create(ig_graph, ig_id(sandbox), image_url=image_server.url(path))

    error = caught.value.result["error"]
    assert (error["code"], error["error_subcode"]) == (9004, 2207052)
    assert error["message"] == "Only photo or video can be accepted as media type."
    assert image_server.url(path) in error["error_user_msg"]


@pytest.mark.parametrize(
    ("caption", "fine"),
    [
        (" ".join(f"#tag{n}" for n in range(30)), True),
        (" ".join(f"#tag{n}" for n in range(31)), False),
        (" ".join(f"@user{n}" for n in range(20)), True),
        (" ".join(f"@user{n}" for n in range(21)), False),
        ("a" * 2200, True),
        ("a" * 2201, False),
    ],
)
def test_caption_limits(
    sandbox: SandboxThread,
    ig_graph: facebook.GraphAPI,
    image_server: ImageServer,
    caption: str,
    fine: bool,
) -> None:
    url = image_server.url("/poster.jpg")
    if fine:
        assert create(ig_graph, ig_id(sandbox), image_url=url, caption=caption)
        return
    with pytest.raises(facebook.GraphAPIError) as caught:
        create(ig_graph, ig_id(sandbox), image_url=url, caption=caption)
    assert caught.value.code == 100
    assert caught.value.result["error"]["error_subcode"] == 2207010


def test_quota_is_reported_and_enforced(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    on_loop(sandbox, lambda s: s.set_ig_quota(ig_id(sandbox), 2))
    publish_image(sandbox, ig_graph, image_server, "one")
    publish_image(sandbox, ig_graph, image_server, "two")

    limit = ig_graph.get_connections(
        ig_id(sandbox), "content_publishing_limit", fields="quota_usage,config"
    )
    with pytest.raises(facebook.GraphAPIError) as caught:
        publish_image(sandbox, ig_graph, image_server, "three")

    assert limit == {
        "data": [{"quota_usage": 2, "config": {"quota_total": 2, "quota_duration": 86400}}]
    }
    assert (caught.value.code, caught.value.result["error"]["error_subcode"]) == (9, 2207042)
    assert len(instagram_items(sandbox)) == 2

    advance(sandbox, 24 * 3600)  # the window moves on
    publish_image(sandbox, ig_graph, image_server, "three")
    assert len(instagram_items(sandbox)) == 3


def test_default_quota_is_fifty(sandbox: SandboxThread, ig_graph: facebook.GraphAPI) -> None:
    limit = ig_graph.get_connections(ig_id(sandbox), "content_publishing_limit", fields="config")

    assert limit["data"][0]["config"]["quota_total"] == 50


def test_media_listing_and_page_token_access(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    first = publish_image(sandbox, ig_graph, image_server, "first")
    second = publish_image(sandbox, ig_graph, image_server, "second")
    page_client = client(sandbox.sandbox.fixtures.pages[0].access_token)

    listed = page_client.get_connections(ig_id(sandbox), "media", fields="caption")

    assert [m["id"] for m in listed["data"]] == [second, first]
    assert listed["data"][0]["caption"] == "second"


def test_insights_current_and_deprecated(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    media_id = publish_image(sandbox, ig_graph, image_server, "metrics")
    advance(sandbox, 24 * 3600)
    names = "likes,comments,views,reach,saved,shares,total_interactions"

    result = ig_graph.get_connections(media_id, "insights", metric=names)
    with pytest.raises(facebook.GraphAPIError) as impressions:
        ig_graph.get_connections(media_id, "insights", metric="reach,impressions")
    with pytest.raises(facebook.GraphAPIError) as unknown:
        ig_graph.get_connections(media_id, "insights", metric="reach,saves")

    values = {m["name"]: m["values"][0]["value"] for m in result["data"]}
    assert list(values) == names.split(",")
    assert values["views"] > 0
    assert values["total_interactions"] == sum(
        values[k] for k in ("likes", "comments", "saved", "shares")
    )
    media = ig_graph.get_object(media_id, fields="like_count,comments_count")
    assert (media["like_count"], media["comments_count"]) == (values["likes"], values["comments"])
    assert impressions.value.code == 100
    assert "impressions metric is no longer supported" in str(impressions.value)
    assert str(unknown.value).startswith("(#100) metric[1] must be one of the following values")


def test_policy_marker_gets_the_spam_block(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    marker = on_loop(sandbox, lambda s: s.settings.policy_marker)

    with pytest.raises(facebook.GraphAPIError) as caught:
        create(ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"), caption=marker)

    assert (caught.value.code, caught.value.result["error"]["error_subcode"]) == (4, 2207051)


def test_unknown_container_field(
    sandbox: SandboxThread, ig_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    container = create(ig_graph, ig_id(sandbox), image_url=image_server.url("/poster.jpg"))

    with pytest.raises(facebook.GraphAPIError) as caught:
        ig_graph.get_object(container, fields="status_code,media_url")

    assert str(caught.value) == (
        "(#100) Tried accessing nonexisting field (media_url) on node type (ShadowIGMediaBuilder)"
    )
