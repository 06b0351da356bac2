"""The reaper reconciles a call that passed the gate but never learned its provider id (its worker
was killed mid-request, or the answer was lost) by asking the provider which calls it created, so
a call that really happened is recorded with its real outcome, not closed as "no outcome"."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from campaigns import services
from campaigns.models import Call
from dialer import placement
from tests.fakes.dialdeck_side import (
    counters,
    queue_calls,
    recount,
    vapi_account,
    vapi_caller_id,
    vapi_campaign,
)
from tests.fakes.vapi_server import FakeVapi

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def vapi(settings):
    with FakeVapi() as server:
        server.drop_webhooks = True  # every webhook lost: only GET /call knows what happened
        settings.PROVIDER_ALLOWED_HOSTS = [server.url.removeprefix("http://")]
        yield server


def overdue(call: Call) -> None:
    """Past ring time + max duration + grace, for the reaper (its requests' times stay as they were:
    they say when to ask the provider about)."""
    then = timezone.now() - timedelta(hours=1)
    Call.objects.filter(pk=call.pk).update(created_at=then, placing_at=then)


def test_a_call_whose_answer_was_lost_is_found_at_the_provider_and_recorded(org, vapi, settings) -> None:
    people = [services.CustomerInput(number="+14155551000", name="Ana")]
    [call] = queue_calls(
        vapi_campaign(vapi_caller_id(vapi_account(org, vapi)), people, strategy={"max_attempts": 1})
    )
    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    vapi.lose_answer_next(1, seconds=0.6)  # Vapi creates and plays the call; our worker never hears back
    assert placement.place_many([str(call.pk)]) == [(str(call.pk), None)]
    call.refresh_from_db()
    assert (call.status, call.provider_call_id, call.confirmed_at is not None) == ("queued", "", True)
    vapi.settle()
    overdue(call)

    assert placement.reap_stale_calls() == 0  # nothing had to be closed without an outcome

    call.refresh_from_db()
    assert call.status == "ended" and call.ended_reason == "customer-ended-call"
    [created] = [r for r in vapi.posts_to_create_calls()]  # found, never posted again
    assert vapi.placed == [str(call.pk)] and call.provider_call_id  # Vapi's id, learned from GET /call
    assert call.customer.state == "completed"
    assert counters(call.campaign) == recount(call.campaign)


def test_a_call_the_provider_never_created_is_closed_as_no_outcome(org, vapi, settings) -> None:
    people = [services.CustomerInput(number="+14155551001", name="Bo")]
    [call] = queue_calls(
        vapi_campaign(vapi_caller_id(vapi_account(org, vapi)), people, strategy={"max_attempts": 1})
    )
    settings.PROVIDER_HTTP_TIMEOUT = 0.3
    vapi.hang_next(1, seconds=0.6)  # the request went out and nothing came of it at the provider
    placement.place_many([str(call.pk)])
    overdue(call)

    assert placement.reap_stale_calls() == 1

    call.refresh_from_db()
    assert (call.status, call.ended_reason) == ("ended", placement.REAPED_REASON)
    assert call.log.filter(kind="poll", summary__contains="carries our call id").exists()
