"""What a person decides about a publication the engine could not finish: retry a failure,
settle an unconfirmed outcome, publish or drop a missed one, give it a new time or a new text.

Each decision is one legal state transition (content.domain.states.transition) with an audit entry;
the bot's buttons and the CLI share these functions.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from content.domain.rules import fit_problems, misfit
from content.domain.states import PostStatus, PublicationState, move_publication, transition
from content.errors import InvalidInput, NotFound
from content.storage.models import Organization, Post, Publication
from content.storage.registry import audit

S = PublicationState
_FINISHED = {S.SENT, S.CANCELLED}


def get_publication(session: Session, org: Organization, publication_id: int) -> Publication:
    publication = session.get(Publication, publication_id, with_for_update={"of": Publication})
    if publication is None or publication.channel.organization_id != org.id:
        raise NotFound("no publication has id {id}", id=publication_id)
    return publication


def _expect(publication: Publication, *states: PublicationState) -> None:
    """Refuse a decision the publication no longer needs (e.g. a button pressed twice)."""
    if publication.state not in states:
        raise InvalidInput(
            "publication {id} is {state} now, so there is nothing to do: it was settled already",
            id=publication.id,
            state=publication.state.value,
        )


def _schedule(publication: Publication, due_at: datetime) -> None:
    move_publication(publication, S.SCHEDULED)
    publication.due_at = due_at
    publication.last_error = None


def finish_post(post: Post | None) -> None:
    """A queued post whose publications are all sent or cancelled is finished: done if any
    went out, otherwise cancelled."""
    if post is None or post.status is not PostStatus.QUEUED:
        return
    states = {p.state for p in post.publications}
    if states <= _FINISHED:
        target = PostStatus.DONE if S.SENT in states else PostStatus.CANCELLED
        post.status = transition(post.status, target)


def retry_failed(
    session: Session, org: Organization, publication_id: int, *, now: datetime, actor: str
) -> Publication:
    """A failed publication goes out again now."""
    publication = get_publication(session, org, publication_id)
    _expect(publication, S.FAILED)
    _schedule(publication, now)
    audit(session, org, actor, "publication.retry", f"publication:{publication.id}")
    return publication


def settle_unconfirmed(
    session: Session,
    org: Organization,
    publication_id: int,
    posted: bool,
    *,
    now: datetime,
    actor: str,
    remote_url: str | None = None,
) -> Publication:
    """A person looked: posted → SENT (the time is when they said so; without a remote id,
    engagement is not collected); not posted → sent again now, which cannot double it."""
    publication = get_publication(session, org, publication_id)
    _expect(publication, S.UNCONFIRMED)
    if posted:
        move_publication(publication, S.SENT)
        publication.sent_at = publication.sent_at or now
        publication.remote_url = remote_url or publication.remote_url
        publication.last_error = None
        finish_post(publication.post)
    else:
        _schedule(publication, now)
    audit(
        session,
        org,
        actor,
        "publication.settle",
        f"publication:{publication.id}",
        posted=posted,
        remote_url=remote_url,
    )
    return publication


def publish_missed_now(
    session: Session, org: Organization, publication_id: int, *, now: datetime, actor: str
) -> Publication:
    """A publication missed during downtime goes out now after all."""
    publication = get_publication(session, org, publication_id)
    _expect(publication, S.MISSED)
    _schedule(publication, now)
    audit(session, org, actor, "publication.publish_now", f"publication:{publication.id}")
    return publication


def reschedule_publication(
    session: Session,
    org: Organization,
    publication_id: int,
    due_at: datetime,
    *,
    now: datetime,
    actor: str,
) -> Publication:
    """Give a missed, failed or still scheduled publication a new time.

    An event's announcement or reminder must still go out before the event starts.
    """
    publication = get_publication(session, org, publication_id)
    _expect(publication, S.MISSED, S.FAILED, S.SCHEDULED, S.PAUSED)
    if due_at < now:
        raise InvalidInput("the new time is in the past: choose a later time")
    event = publication.event
    if event is not None and due_at >= event.starts_at:
        raise InvalidInput("the new time must come before the event starts")
    old = publication.due_at
    if publication.state in (S.SCHEDULED, S.PAUSED):
        publication.due_at = due_at  # a paused one keeps waiting for its channel's fix
    else:
        _schedule(publication, due_at)
    audit(
        session,
        org,
        actor,
        "publication.reschedule",
        f"publication:{publication.id}",
        due_at=[old.isoformat(), due_at.isoformat()],
    )
    return publication


def drop_publication(
    session: Session, org: Organization, publication_id: int, *, actor: str
) -> Publication:
    """Give up on a publication that has not gone out; its post is finished if nothing is left."""
    publication = get_publication(session, org, publication_id)
    _expect(publication, S.MISSED, S.FAILED, S.UNCONFIRMED, S.SCHEDULED, S.PAUSED, S.RETRY_WAIT)
    move_publication(publication, S.CANCELLED)
    finish_post(publication.post)
    audit(session, org, actor, "publication.drop", f"publication:{publication.id}")
    return publication


def replace_text_and_retry(
    session: Session,
    org: Organization,
    publication_id: int,
    text: str,
    *,
    now: datetime,
    actor: str,
) -> Publication:
    """Fix a failed publication's words and send it again now.

    For a post this replaces the text in the channel's language (its variant if it has one, else
    the default text, which the post's other unsent publications share); for an event it
    replaces the description. The new text must fit the channel.
    """
    publication = get_publication(session, org, publication_id)
    _expect(publication, S.FAILED)
    text = text.strip()
    if not text:
        raise InvalidInput("the text is empty: send the new text, or /cancel")
    channel = publication.channel
    post, event = publication.post, publication.event
    if post is not None:
        images = len(post.media)
        problems = fit_problems(channel.platform, text, images, channel.name)
        if problems:
            raise misfit(problems)
        if channel.language in post.variants:
            post.variants = {**post.variants, channel.language: text}
        else:
            post.text = text
    elif event is not None:
        summary = "\n".join(filter(None, [event.title, event.place, text]))
        problems = fit_problems(channel.platform, summary, 1 if event.image else 0, channel.name)
        if problems:
            raise misfit(problems)
        event.description = text
    _schedule(publication, now)
    audit(session, org, actor, "publication.edit_retry", f"publication:{publication.id}")
    return publication
