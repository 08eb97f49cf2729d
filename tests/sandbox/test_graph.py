"""The Graph emulator's Facebook Pages side, driven by the real facebook-sdk."""

from __future__ import annotations

import json
from datetime import timedelta

import facebook
import pytest
import requests

from sandbox.runner import SandboxThread
from tests.sandbox import graph_fixtures
from tests.sandbox.graph_fixtures import ImageServer, advance, client, image_bytes, on_loop

image_server = graph_fixtures.image_server
graph_url = graph_fixtures.graph_url
page_graph = graph_fixtures.page_graph

ENGAGEMENT = "reactions.summary(total_count).limit(0),comments.summary(total_count).limit(0),shares"


def page_id(sandbox: SandboxThread) -> str:
    return sandbox.sandbox.fixtures.pages[0].id


def facebook_items(sandbox: SandboxThread) -> list[tuple[str, str, int]]:
    return [
        (i.remote_id, i.text, i.media_count)
        for i in sandbox.sandbox.ledger.items
        if i.platform == "facebook"
    ]


def test_feed_post_is_published_once_and_readable(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    result = page_graph.put_object(page_id(sandbox), "feed", message="Story hour at 5")

    post_id = result["id"]
    assert post_id.startswith(page_id(sandbox) + "_")
    post = page_graph.get_object(post_id, fields="message,created_time,permalink_url")
    assert post["message"] == "Story hour at 5"
    assert post["permalink_url"].startswith("https://www.facebook.com/")
    assert post["id"] == post_id
    assert facebook_items(sandbox) == [(post_id, "Story hour at 5", 0)]


def test_link_post_and_listing_with_paging(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    page_graph.put_object(page_id(sandbox), "feed", message="Read", link="https://lib.example/")
    for n in range(30):
        page_graph.put_object(page_id(sandbox), "feed", message=f"post {n}")

    first = page_graph.get_connections(page_id(sandbox), "posts")
    everything = list(page_graph.get_all_connections(page_id(sandbox), "feed"))

    assert len(first["data"]) == 25
    assert "access_token=" in first["paging"]["next"]
    assert len(everything) == 31
    assert everything[0]["message"] == "post 29"  # newest first
    assert everything[-1]["message"] == "Read"


def test_photo_by_url_is_fetched_and_published(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    result = page_graph.put_object(
        page_id(sandbox), "photos", url=image_server.url("/poster.png"), caption="Poster"
    )

    assert result["post_id"] == f"{page_id(sandbox)}_{result['id']}"
    photo = page_graph.get_object(result["id"], fields="images,name,width,height")
    assert photo["name"] == "Poster"
    assert (photo["width"], photo["height"]) == (64, 48)
    served = requests.get(photo["images"][0]["source"], timeout=5)
    assert served.headers["Content-Type"] == "image/png"
    assert facebook_items(sandbox) == [(result["post_id"], "Poster", 1)]


def test_photo_by_upload(sandbox: SandboxThread, page_graph: facebook.GraphAPI) -> None:
    result = page_graph.put_photo(
        image_bytes("JPEG"), album_path=f"{page_id(sandbox)}/photos", caption="Uploaded"
    )

    post = page_graph.get_object(result["post_id"], fields="message,full_picture")
    assert post["message"] == "Uploaded"
    assert post["full_picture"].endswith("/graph-cdn/" + result["id"])


@pytest.mark.parametrize("path", ["/page.html", "/missing.jpg"])
def test_photo_url_that_is_not_an_image_is_refused(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, image_server: ImageServer, path: str
) -> None:
    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.put_object(page_id(sandbox), "photos", url=image_server.url(path))

    assert caught.value.code == 324
    assert facebook_items(sandbox) == []


def test_multi_photo_post_with_attached_media(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, image_server: ImageServer
) -> None:
    uploads = [
        page_graph.put_object(
            page_id(sandbox), "photos", url=image_server.url(path), published="false"
        )
        for path in ("/poster.jpg", "/poster.png")
    ]
    assert set(uploads[0]) == {"id"}
    assert facebook_items(sandbox) == []  # unpublished uploads are not posts

    attached = {
        f"attached_media[{i}]": json.dumps({"media_fbid": u["id"]}) for i, u in enumerate(uploads)
    }
    post = page_graph.put_object(page_id(sandbox), "feed", message="Two posters", **attached)

    assert facebook_items(sandbox) == [(post["id"], "Two posters", 2)]
    with pytest.raises(facebook.GraphAPIError) as caught:  # an upload attaches only once
        page_graph.put_object(page_id(sandbox), "feed", message="Again", **attached)
    assert caught.value.code == 100


def test_engagement_fields_grow_with_sandbox_time(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    post_id = page_graph.put_object(page_id(sandbox), "feed", message="Engage")["id"]
    fresh = page_graph.get_object(post_id, fields=ENGAGEMENT)

    advance(sandbox, 48 * 3600)
    later = page_graph.get_object(post_id, fields=ENGAGEMENT)

    assert fresh["reactions"] == {
        "data": [],
        "summary": {"total_count": 0, "viewer_reaction": "NONE"},
    }
    assert later["reactions"]["summary"]["total_count"] > 0
    assert later["comments"]["data"] == []
    assert later["comments"]["summary"]["total_count"] >= 0
    expected = on_loop(sandbox, lambda s: s.engagement(post_id, s.posts[post_id].created_at))
    assert later["reactions"]["summary"]["total_count"] == expected.reactions
    assert later.get("shares", {"count": 0})["count"] == expected.shares


def test_unknown_field_is_graphs_code_100(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    post_id = page_graph.put_object(page_id(sandbox), "feed", message="x")["id"]

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.get_object(post_id, fields="message,like_count")

    assert caught.value.code == 100
    assert str(caught.value) == (
        "(#100) Tried accessing nonexisting field (like_count) on node type (PagePost)"
    )


def test_current_insights_metrics(sandbox: SandboxThread, page_graph: facebook.GraphAPI) -> None:
    post_id = page_graph.put_object(page_id(sandbox), "feed", message="Insight")["id"]
    advance(sandbox, 24 * 3600)

    names = "post_total_media_view_unique,post_media_view,post_reactions_by_type_total,post_clicks"
    result = page_graph.get_connections(post_id, "insights", metric=names)

    assert [m["name"] for m in result["data"]] == names.split(",")
    values = {m["name"]: m["values"][0]["value"] for m in result["data"]}
    assert values["post_media_view"] >= values["post_total_media_view_unique"] > 0
    assert isinstance(values["post_reactions_by_type_total"], dict)


@pytest.mark.parametrize(
    "metric", ["post_impressions", "post_impressions_unique", "post_engaged_users"]
)
def test_deprecated_insights_metrics_are_invalid(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, metric: str
) -> None:
    post_id = page_graph.put_object(page_id(sandbox), "feed", message="Old metrics")["id"]

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.get_connections(post_id, "insights", metric=f"post_clicks,{metric}")

    assert caught.value.code == 100
    assert str(caught.value) == "(#100) The value must be a valid insights metric"


def test_delete_removes_the_post_and_its_ledger_item(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    post_id = page_graph.put_object(page_id(sandbox), "feed", message="Oops")["id"]

    assert page_graph.delete_object(post_id) == {"success": True}

    assert facebook_items(sandbox) == []
    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.get_object(post_id)
    assert caught.value.code == 100
    assert caught.value.result["error"]["error_subcode"] == 33


def test_scheduled_post_appears_when_its_time_comes(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    at = sandbox.sandbox.clock.now() + timedelta(hours=2)
    result = page_graph.put_object(
        page_id(sandbox),
        "feed",
        message="Tomorrow's talk",
        published="false",
        scheduled_publish_time=str(int(at.timestamp())),
    )
    assert facebook_items(sandbox) == []
    assert len(page_graph.get_connections(page_id(sandbox), "scheduled_posts")["data"]) == 1

    advance(sandbox, 2 * 3600 + 1)

    listed = page_graph.get_connections(page_id(sandbox), "posts")["data"]
    assert [p["id"] for p in listed] == [result["id"]]
    assert facebook_items(sandbox) == [(result["id"], "Tomorrow's talk", 0)]


@pytest.mark.parametrize(
    ("ahead", "published"),
    [(timedelta(minutes=5), "false"), (timedelta(days=76), "false"), (timedelta(hours=1), None)],
)
def test_schedule_outside_the_window_is_refused(
    sandbox: SandboxThread,
    page_graph: facebook.GraphAPI,
    ahead: timedelta,
    published: str | None,
) -> None:
    when = str(int((sandbox.sandbox.clock.now() + ahead).timestamp()))
    extra = {"published": published} if published else {}

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.put_object(
            page_id(sandbox), "feed", message="x", scheduled_publish_time=when, **extra
        )

    assert caught.value.code == 100
    assert "scheduled publish time" in str(caught.value)


def test_duplicate_status_message_is_506(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    page_graph.put_object(page_id(sandbox), "feed", message="Same words")

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.put_object(page_id(sandbox), "feed", message="Same words")
    assert caught.value.code == 506
    assert str(caught.value) == "(#506) Duplicate status message"

    advance(sandbox, 2 * 3600)  # outside the window the same words are fine again
    page_graph.put_object(page_id(sandbox), "feed", message="Same words")
    assert len(facebook_items(sandbox)) == 2


def test_policy_marker_is_blocked_with_368(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    marker = on_loop(sandbox, lambda s: s.settings.policy_marker)

    with pytest.raises(facebook.GraphAPIError) as caught:
        page_graph.put_object(page_id(sandbox), "feed", message=f"Buy now {marker}")

    assert caught.value.code == 368
    assert facebook_items(sandbox) == []


def test_revoked_and_expired_tokens_are_190(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    token = sandbox.sandbox.fixtures.pages[0].access_token
    other = sandbox.sandbox.fixtures.pages[1].access_token
    on_loop(sandbox, lambda s: s.revoke_token(token))
    on_loop(sandbox, lambda s: s.expire_token(other))

    with pytest.raises(facebook.GraphAPIError) as revoked:
        page_graph.put_object(page_id(sandbox), "feed", message="x")
    with pytest.raises(facebook.GraphAPIError) as expired:
        client(other).get_object("me")

    assert (revoked.value.code, revoked.value.result["error"]["error_subcode"]) == (190, 467)
    assert (expired.value.code, expired.value.result["error"]["error_subcode"]) == (190, 463)
    assert revoked.value.type == "OAuthException"


def test_unknown_token_and_foreign_page(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, graph_url: str
) -> None:
    with pytest.raises(facebook.GraphAPIError) as unknown:
        client("EAAnotatoken").get_object("me")
    with pytest.raises(facebook.GraphAPIError) as foreign:
        page_graph.put_object(sandbox.sandbox.fixtures.pages[1].id, "feed", message="x")

    assert unknown.value.code == 190
    assert foreign.value.code == 100
    assert foreign.value.result["error"]["error_subcode"] == 33


def test_me_is_the_page_and_errors_have_graphs_shape(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI, graph_url: str
) -> None:
    me = page_graph.get_object("me", fields="name,instagram_business_account")
    response = requests.post(
        graph_url + f"v21.0/{page_id(sandbox)}/feed",
        data={"access_token": sandbox.sandbox.fixtures.pages[0].access_token},
        timeout=5,
    )

    assert me["name"] == sandbox.sandbox.fixtures.pages[0].name
    assert me["instagram_business_account"] == {"id": sandbox.sandbox.fixtures.instagram[0].id}
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/json")
    error = response.json()["error"]
    assert set(error) == {"message", "type", "code", "fbtrace_id"}


def test_token_in_authorization_header_and_unversioned_path(
    sandbox: SandboxThread, graph_url: str
) -> None:
    token = sandbox.sandbox.fixtures.pages[0].access_token

    response = requests.get(
        graph_url + page_id(sandbox), headers={"Authorization": f"Bearer {token}"}, timeout=5
    )

    assert response.json() == {
        "name": sandbox.sandbox.fixtures.pages[0].name,
        "id": page_id(sandbox),
    }


def test_facebook_sdks_default_version_is_deprecated(
    sandbox: SandboxThread, graph_url: str
) -> None:
    api = facebook.GraphAPI(access_token=sandbox.sandbox.fixtures.pages[0].access_token)

    with pytest.raises(facebook.GraphAPIError) as caught:
        api.get_object("me")  # v2.8 unless the version workaround is applied

    assert caught.value.code == 2635


def test_a_page_shares_another_pages_post_by_its_permalink(
    sandbox: SandboxThread, page_graph: facebook.GraphAPI
) -> None:
    member, head = sandbox.sandbox.fixtures.pages[1], sandbox.sandbox.fixtures.pages[0]
    member_graph = client(member.access_token)
    original = member_graph.put_object(member.id, "feed", message="Puppet theatre on Sunday")
    link = member_graph.get_object(original["id"], fields="permalink_url")["permalink_url"]

    shared = page_graph.put_object(head.id, "feed", message="From our district", link=link)
    plain = page_graph.put_object(head.id, "feed", link="https://lib.example/e/1")

    fields = "parent_id,status_type,permalink_url"
    share = page_graph.get_object(shared["id"], fields=fields)
    assert share["parent_id"] == original["id"]
    assert share["status_type"] == "shared_story"
    assert share["permalink_url"] != link
    assert "parent_id" not in page_graph.get_object(plain["id"], fields=fields)
    # Only the member's Page token publishes as the member's Page.
    with pytest.raises(facebook.GraphAPIError, match="^Unsupported post request"):
        page_graph.put_object(member.id, "feed", link=link)
    assert [i[0] for i in facebook_items(sandbox)] == [original["id"], shared["id"], plain["id"]]
