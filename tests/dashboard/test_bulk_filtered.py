"""The customers page's bulk form on every customer the filter matches, and moves: a counted
question under the form, then the change; refusals said in words, nothing changed."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from campaigns import services
from campaigns.models import AuditEvent, Campaign, Customer
from tests.dashboard.conftest import HTMX
from tests.dashboard.test_campaign_detail import url

pytestmark = pytest.mark.django_db(transaction=True)
QUIET = {"auto_start": False, "respect_recipient_time_zone": False}


def test_cancel_all_matching_is_counted_then_done(as_manager, make_campaign) -> None:
    campaign = make_campaign(60, strategy=QUIET)
    form = {"action": "cancel", "scope": "filtered", "match_q": "Customer 2"}  # 2, 20-29: 11
    asked = as_manager.post(url("customers-bulk", campaign), form, **HTMX)
    assert asked.status_code == 200
    question = asked.content.decode()
    assert "Cancel all 11 customers matching search “Customer 2”?" in question
    assert 'name="expected" value="11"' in question and 'name="match_q" value="Customer 2"' in question
    assert Campaign.objects.get(pk=campaign.pk).customers_cancelled == 0  # nothing before the answer
    done = as_manager.post(
        url("customers-bulk", campaign), {**form, "confirmed": "yes", "expected": "11"}, follow=True
    )
    assert "Cancelled 11 of 11." in done.content.decode()
    assert Customer.objects.filter(campaign=campaign, state="cancelled").count() == 11
    assert done.redirect_chain[-1][0].endswith("/customers?q=Customer+2")  # back to the same filter


def test_all_matching_customers_in_another_state_are_refused_in_words(as_manager, make_campaign) -> None:
    campaign = make_campaign(5, strategy=QUIET)
    form = {"action": "retry", "scope": "filtered", "match_state": "completed"}
    response = as_manager.post(url("customers-bulk", campaign), form, **HTMX)
    assert response["HX-Refused"] == "422"
    assert "only customers still waiting (pending) can be called again" in response.content.decode()
    dnc = as_manager.post(url("customers-bulk", campaign), {"action": "dnc", "scope": "filtered"}, **HTMX)
    assert "works on chosen customers only" in dnc.content.decode()


def test_move_offers_scheduled_and_paused_campaigns_and_moves_the_counted_ones(
    as_manager, make_campaign, owner
) -> None:
    source = make_campaign(10, strategy=QUIET)
    target = make_campaign(
        0, name="Winback", strategy=QUIET, customers=[services.CustomerInput(number="+14155550003")]
    )
    running = services.campaign_start(campaign=make_campaign(1, name="Live", strategy=QUIET), by=owner)
    with CaptureQueriesContext(connection) as captured:
        page = as_manager.get(url("customers", source)).content.decode()
    assert f'<option value="{target.pk}">Winback (scheduled)</option>' in page
    # The choice reads what it shows of each campaign, not whole rows (an organization with a
    # thousand campaigns spent 30 ms of every customers page on them).
    (offered,) = [
        q["sql"] for q in captured.captured_queries if 'ORDER BY "campaigns_campaign"."name"' in q["sql"]
    ]
    assert (
        '"campaigns_campaign"."name"' in offered
        and '"campaigns_campaign"."assistant_overrides"' not in offered
    )
    assert f'value="{running.pk}"' not in page  # a running campaign is not offered
    form = {"action": "move", "scope": "filtered", "to": str(target.pk)}
    question = as_manager.post(url("customers-bulk", source), form, **HTMX).content.decode()
    assert "Move all 9 customers into “Winback”?" in question  # +14155550003 is there already
    done = as_manager.post(
        url("customers-bulk", source), {**form, "confirmed": "yes", "expected": "9"}, follow=True
    )
    assert "Moved 9 of 9 into “Winback”." in done.content.decode()
    target.refresh_from_db()
    assert (target.customers_total, target.customers_pending) == (10, 10)
    assert AuditEvent.objects.filter(action="customers.move_in", target_id=str(target.pk)).exists()
    # A move into a campaign that is not offered (running) is refused, naming what to do.
    refused = as_manager.post(url("customers-bulk", source), {**form, "to": str(running.pk)}, **HTMX)
    assert "Choose the campaign to move them into" in refused.content.decode()
