"""One campaign's page: live fragments, controls, why-not-dialing, customers and calls."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from campaigns import services
from campaigns.models import Call, CallLog, Campaign, Customer
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db
POLL = 'hx-trigger="every 2s"'


def url(name: str, campaign: Campaign, *more: object) -> str:
    return reverse(f"campaigns:{name}", args=[campaign.pk, *more])


def test_the_page_shows_status_counters_progress_and_sections(as_viewer, running) -> None:
    content = as_viewer.get(url("detail", running)).content.decode()
    for part in (
        'id="campaign-status"',
        'id="campaign-counters"',
        'id="campaign-waiting"',
        'id="campaign-charts"',
    ):
        assert part in content
    assert 'aria-live="polite"' in content
    assert '<main id="main"' in content and 'class="skip-link" href="#main"' in content


@pytest.mark.parametrize(
    ("name", "fragment_id"),
    [
        ("counters", "campaign-counters"),
        ("status", "campaign-status"),
        ("waiting", "campaign-waiting"),
        ("charts", "campaign-charts"),
    ],
)
def test_each_fragment_comes_alone_to_htmx_and_as_the_whole_page_otherwise(
    as_viewer, running, name, fragment_id
) -> None:
    fragment = as_viewer.get(url(name, running), **HTMX)
    assert fragment.status_code == 200
    assert f'id="{fragment_id}"' in fragment.content.decode() and b"<html" not in fragment.content
    page = as_viewer.get(url(name, running))
    assert b"<html" in page.content and f'id="{fragment_id}"'.encode() in page.content


def test_counters_poll_while_running_and_stop_once_ended(as_viewer, running, owner) -> None:
    assert POLL in as_viewer.get(url("counters", running), **HTMX).content.decode()
    services.campaign_end(campaign=running, by=owner)
    fragment = as_viewer.get(url("counters", running), **HTMX).content.decode()
    assert POLL not in fragment and "hx-get" not in fragment


def test_counters_come_from_the_stored_columns_in_one_query(
    as_viewer, running, django_assert_max_num_queries
) -> None:
    Campaign.objects.filter(pk=running.pk).update(
        calls_in_progress=4,
        calls_ended=9,
        calls_ended_answered=6,
        calls_ended_busy=3,
        customers_final=3,
        customers_dialed=4,
        customers_completed=2,
        customers_failed=1,
        customers_pending=2,
    )
    with django_assert_max_num_queries(6) as captured:  # session, user, memberships, campaign (+ savepoints)
        content = as_viewer.get(url("counters", running), **HTMX).content.decode()
    # Polled every 2 s: the campaign row alone, no join for the caller ID and author the page
    # shows (compiling and planning that join was a third of the fragment's time).
    (read,) = [q["sql"] for q in captured.captured_queries if 'FROM "campaigns_campaign"' in q["sql"]]
    assert "JOIN" not in read
    assert 'data-counter="calls_in_progress">4<' in content and 'data-counter="calls_ended">9<' in content
    assert 'data-counter="customers_reached">2<' in content
    assert 'data-counter="customers_not_reached">1<' in content
    assert 'data-counter="calls_placed">13<' in content
    assert "Answered 6 · Busy 3" in content  # ended calls by outcome, from the stored counters
    assert '<progress max="5" value="4"' in content and "4 of 5 called" in content


def test_counters_keep_polling_after_the_end_while_calls_are_in_flight(as_viewer, running, owner) -> None:
    """«Dashboard» 1: the page stopped polling at End and showed "In progress 3" until reloaded."""
    Campaign.objects.filter(pk=running.pk).update(calls_in_progress=3)
    services.campaign_end(campaign=running, by=owner)
    assert POLL in as_viewer.get(url("counters", running), **HTMX).content.decode()
    Campaign.objects.filter(pk=running.pk).update(calls_in_progress=0)
    assert POLL not in as_viewer.get(url("counters", running), **HTMX).content.decode()


def test_an_unchanged_poll_answers_204_and_a_new_status_triggers_a_refresh(as_viewer, running, owner) -> None:
    fragment = as_viewer.get(url("counters", running), **HTMX).content.decode()
    version = fragment.split("v=", 1)[1].split('"', 1)[0]
    same = as_viewer.get(url("counters", running), {"status": "in-progress", "v": version}, **HTMX)
    assert same.status_code == 204
    services.campaign_pause(campaign=running, by=owner)
    moved = as_viewer.get(url("counters", running), {"status": "in-progress", "v": version}, **HTMX)
    assert moved.status_code == 200 and moved["HX-Trigger"] == "campaign-status-changed, campaign-changed"


def test_start_answers_the_new_status_and_controls_with_counters_out_of_band(as_manager, campaign) -> None:
    response = as_manager.post(url("start", campaign), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200
    assert 'data-status="in-progress"' in content and "Started" in content
    assert url("pause", campaign) in content and url("start", campaign) not in content
    assert 'hx-swap-oob="outerHTML"' in content and POLL in content
    assert response["HX-Trigger"] == "campaign-changed"  # the other panels refresh themselves
    assert Campaign.objects.get(pk=campaign.pk).status == "in-progress"


def test_a_refused_transition_says_why_and_shows_the_current_state(as_manager, campaign) -> None:
    response = as_manager.post(url("pause", campaign), **HTMX)
    content = response.content.decode()
    assert response.status_code == 200 and response["HX-Refused"] == "409"  # no console error in browsers
    assert as_manager.post(url("pause", campaign)).status_code == 302  # without htmx: a message
    assert "Could not pause this campaign: it is scheduled." in content
    assert 'data-status="scheduled"' in content and url("start", campaign) in content


def test_without_htmx_a_transition_redirects_with_a_message(as_manager, running) -> None:
    response = as_manager.post(url("pause", running), follow=True)
    assert response.redirect_chain[-1][0] == url("detail", running)
    assert "Paused" in response.content.decode()
    refused = as_manager.post(url("resume", running), follow=True)
    assert "Resumed." in refused.content.decode()
    again = as_manager.post(url("resume", running), follow=True).content.decode()
    assert "Could not resume this campaign: it is in-progress." in again


def test_pause_resume_and_end_walk_the_lifecycle(as_manager, running) -> None:
    assert as_manager.post(url("pause", running), **HTMX).status_code == 200
    assert as_manager.post(url("resume", running), **HTMX).status_code == 200
    response = as_manager.post(url("end", running), **HTMX)
    assert response.status_code == 200 and 'data-status="ended"' in response.content.decode()
    running.refresh_from_db()
    assert running.ended_reason == "campaign.in-progress.ended-by-user"
    assert as_manager.post(url("end", running), **HTMX)["HX-Refused"] == "409"


def test_deleting_hides_the_campaign_and_goes_back_to_the_list(as_manager, campaign) -> None:
    response = as_manager.post(url("delete", campaign), **HTMX)
    assert response["HX-Redirect"] == reverse("campaigns:list")
    assert as_manager.get(url("detail", campaign)).status_code == 404


def test_the_why_not_dialing_panel_explains_in_words(as_viewer, running, org) -> None:
    until = timezone.now() + timedelta(hours=5)
    Campaign.objects.filter(pk=running.pk).update(waiting_reason="all_lines_busy")
    Customer.objects.filter(campaign=running, position__lt=2).update(
        reason="recipient_local_time", next_attempt_at=until
    )
    content = as_viewer.get(url("waiting", running), **HTMX).content.decode()
    # What the dialer stored last (all lines busy) is not what is true now: nothing is in flight.
    assert "Every line" not in content and "Dialing: customers due are called" in content
    assert "Waiting for the callee&#x27;s local calling hours (08:00–21:00)" in content
    assert '<td data-label="Customers" class="num">2</td>' in content
    assert '<td data-label="Customers" class="num">3</td>' in content
    assert f'datetime="{until.isoformat()}"' in content


def test_the_why_not_dialing_panel_of_a_paused_campaign_says_paused(as_viewer, running, owner) -> None:
    services.campaign_pause(campaign=running, by=owner)
    content = as_viewer.get(url("waiting", running), **HTMX).content.decode()
    assert content.count("Paused: calls under way finish") == 1
    assert "Due now" not in content and "Ready to call, held back as said above" in content


def test_the_charts_are_inline_svg_with_text_alternatives(as_viewer, running, caller_id, provider) -> None:
    customer = running.customers.first()
    Call.objects.create(
        organization=running.organization,
        campaign=running,
        customer=customer,
        phone_number=caller_id,
        provider_account=provider,
        attempt=1,
        status="ended",
        ended_reason="customer-busy",
    )
    Campaign.objects.filter(pk=running.pk).update(calls_ended=1, calls_ended_busy=1)
    content = as_viewer.get(url("charts", running), **HTMX).content.decode()
    assert content.count('role="img"') == 2 and "<title" in content
    assert (
        "Busy: 1 (100%)" in content
        and "Calls started per minute over the last 30 minutes: at most 1" in content
    )


def test_customers_page_by_position_with_next_and_previous_links(as_viewer, make_campaign) -> None:
    campaign = make_campaign(60, strategy={"auto_start": False})
    first = as_viewer.get(url("customers", campaign), **HTMX).content.decode()
    assert "+14155550000" in first and "+14155550024" in first and "+14155550025" not in first
    assert "after=24" in first and "before=" not in first
    second = as_viewer.get(url("customers", campaign), {"after": 24}, **HTMX).content.decode()
    assert "+14155550025" in second and "+14155550049" in second and "before=25" in second
    back = as_viewer.get(url("customers", campaign), {"before": 25}, **HTMX).content.decode()
    assert "+14155550000" in back and "+14155550024" in back and "before=" not in back


def test_customers_filter_by_state_and_reason(as_viewer, running) -> None:
    Customer.objects.filter(campaign=running, position=3).update(state="skipped", reason="do_not_call")
    content = as_viewer.get(
        url("customers", running), {"state": "skipped", "reason": "do_not_call"}, **HTMX
    ).content.decode()
    assert "+14155550003" in content and "+14155550002" not in content
    assert "On the do-not-call list" in content


def test_the_calls_log_opens_each_call_on_its_provider_record(
    as_viewer, running, caller_id, provider
) -> None:
    call = Call.objects.create(
        organization=running.organization,
        campaign=running,
        customer=running.customers.first(),
        phone_number=caller_id,
        provider_account=provider,
        attempt=1,
        status="ended",
        ended_reason="customer-did-not-answer",
        duration_seconds=75,
        cost="0.1234",
        cost_unit="USD",
    )
    CallLog.objects.create(
        call=call, kind="request", http_status=201, summary="POST /call", body='{"id": "x"}'
    )
    log = as_viewer.get(url("calls", running), **HTMX).content.decode()
    assert "No answer" in log and "customer-did-not-answer" in log and "1 min 15 s" in log and "$0.12" in log
    assert 'hx-trigger="toggle once"' in log and url("call", running, call.pk) in log
    record = as_viewer.get(url("call", running, call.pk), **HTMX).content.decode()
    assert "HTTP 201" in record and "POST /call" in record and "{&quot;id&quot;: &quot;x&quot;}" in record
    assert b"<html" in as_viewer.get(url("call", running, call.pk)).content


def test_another_campaigns_call_is_not_found(as_viewer, running, make_campaign, caller_id, provider) -> None:
    other = make_campaign(1, name="Other", customers=None)
    call = Call.objects.create(
        organization=other.organization,
        campaign=other,
        customer=other.customers.first(),
        phone_number=caller_id,
        provider_account=provider,
        attempt=1,
    )
    assert as_viewer.get(url("call", running, call.pk)).status_code == 404


def test_the_page_stays_within_a_fixed_number_of_queries_at_the_demo_size(
    as_viewer, make_campaign, caller_id, provider, django_assert_max_num_queries
) -> None:
    campaign = make_campaign(300, strategy={"auto_start": False})
    calls = [
        Call(
            organization=campaign.organization,
            campaign=campaign,
            customer=customer,
            phone_number=caller_id,
            provider_account=provider,
            attempt=1,
            status="ended",
            ended_reason="customer-ended-call",
        )
        for customer in campaign.customers.all()[:100]
    ]
    Call.objects.bulk_create(calls)
    # 16, the estimated finish (one snapshot), the providers compared, the pre-flight (3: grouped
    # customers, skipped ones, the recent average call)
    with django_assert_max_num_queries(21):
        response = as_viewer.get(url("detail", campaign))
    assert response.status_code == 200


def test_a_scheduled_campaign_shows_who_it_could_call_and_who_never(as_viewer, owner, org, caller_id) -> None:
    office = [
        {"day": d, "start": "09:00", "end": "17:00"}
        for d in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    ]
    campaign = services.campaign_create(
        organization=org,
        by=owner,
        data=services.CampaignInput(
            name="Office hours",
            assistant_id="a",
            phone_number_id=str(caller_id.pk),
            customers=[services.CustomerInput(number=f"+1212555000{i}") for i in range(3)]
            + [services.CustomerInput(number="+81312345670")],
            strategy={"time_zone": "America/New_York", "calling_hours": office, "auto_start": False},
        ),
    )
    page = as_viewer.get(url("detail", campaign)).content.decode()
    assert "Before you start: who can be called" in page
    assert '<dd data-preflight="pending">4</dd>' in page
    assert '<dd data-preflight="held">1</dd>' in page
    assert "1 of 4 customers can never be called under these settings" in page
    assert 'data-reason="no_common_hours"' in page

    services.campaign_start(campaign=campaign, by=owner)
    assert "Before you start" not in as_viewer.get(url("detail", campaign)).content.decode()


def test_the_live_fragments_read_the_campaign_alone_and_the_page_still_names_its_caller_id(
    as_viewer, running, django_assert_max_num_queries
) -> None:
    for name in ("status", "waiting", "wallboard", "announce"):
        with django_assert_max_num_queries(12) as captured:
            assert as_viewer.get(url(name, running), **HTMX).status_code == 200
        reads = [q["sql"] for q in captured.captured_queries if 'FROM "campaigns_campaign"' in q["sql"]]
        assert reads and not any("JOIN" in sql for sql in reads), name
    # Asked without htmx (a bookmark, a reload), a fragment's address is the whole page: with its
    # caller ID, read in the same query as the campaign.
    page = as_viewer.get(url("counters", running)).content.decode()
    assert running.phone_number.number in page
