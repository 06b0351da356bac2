"""The calls and customers lists: filters a supervisor narrows them with (a wrong one is named beside
its field), columns sorted by a click (aria-sort says how), and keyset pages that neither skip nor
repeat a row, whatever the sort, ties and missing values included."""

from __future__ import annotations

import random
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.db import connection
from django.urls import reverse

from campaigns import selectors, services
from campaigns.models import Call, Campaign, Customer, PhoneNumber, ProviderAccount
from tests.dashboard.conftest import HTMX

pytestmark = pytest.mark.django_db(transaction=True)

DAY = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)
REASONS = [
    "customer-ended-call",
    "customer-busy",
    "voicemail",
    "customer-did-not-answer",
    "pipeline-error-openai-llm-failed",
]


def with_calls(campaign: Campaign, *, seed: int = 7) -> list[Call]:
    """One ended call per customer, with durations and costs that tie and are sometimes missing,
    over four days, and one in three on a second provider account."""
    rng = random.Random(seed)
    second = ProviderAccount.objects.create(
        organization=campaign.organization, name="Backup", kind="simulated"
    )
    calls = []
    for i, customer in enumerate(Customer.objects.filter(campaign=campaign).order_by("position")):
        calls.append(
            Call(
                organization=campaign.organization,
                campaign=campaign,
                customer=customer,
                phone_number=campaign.phone_number,
                provider_account=second if i % 3 == 2 else campaign.phone_number.provider_account,
                attempt=1,
                status="ended",
                ended_reason=REASONS[i % len(REASONS)],
                duration_seconds=rng.choice([None, 10.0, 20.0, 20.0, 35.5]),
                cost=rng.choice([None, Decimal("0.1000"), Decimal("0.2500")]),
                objective_met=rng.choice([None, True, False]),
            )
        )
    Call.objects.bulk_create(calls)
    for i, call in enumerate(calls):  # auto_now_add: set the times afterwards
        Call.objects.filter(pk=call.pk).update(created_at=DAY + timedelta(days=i % 4, minutes=i))
    return list(Call.objects.filter(campaign=campaign))


def rows_of(content: str) -> list[str]:
    return re.findall(r'/calls/([0-9a-f-]{36})"', content)


def walk(client, url: str, params: dict) -> list[str]:
    """Every call id through the Next links, in the order shown."""
    seen, key = [], None
    for _ in range(50):
        content = client.get(
            url,
            {**params, **({"older": key} if key else {})},
            HTTP_HX_REQUEST="true",
            HTTP_HX_TARGET="call-rows",
        ).content.decode()
        seen += list(dict.fromkeys(rows_of(content)))
        found = re.search(r'older=([^"&]+)"', content)
        if not found:
            return seen
        key = found.group(1).replace("%7E", "~").replace("%3A", ":").replace("%2B", "+")
    raise AssertionError("the pager never ended")


@pytest.mark.parametrize("sort", ["-started", "started", "-duration", "duration", "-cost", "cost"])
def test_every_sort_pages_through_every_call_once_in_order(sort, as_viewer, make_campaign) -> None:
    campaign = make_campaign(60, strategy={"auto_start": False})
    calls = with_calls(campaign)
    url = reverse("campaigns:calls", args=[campaign.pk])
    shown = walk(as_viewer, url, {"call_sort": sort})
    assert len(shown) == 60 and set(shown) == {str(c.pk) for c in calls}  # none skipped, none twice
    column = {"started": "created_at", "duration": "duration_seconds", "cost": "cost"}[sort.lstrip("-")]
    low = {"duration_seconds": -1.0, "cost": Decimal(-1)}.get(column)
    by_id = {str(c.pk): c for c in calls}
    values = [getattr(by_id[pk], column) if getattr(by_id[pk], column) is not None else low for pk in shown]
    assert values == sorted(values, reverse=sort.startswith("-"))  # a missing value sorts lowest


def test_a_header_click_sorts_and_says_so(as_viewer, make_campaign) -> None:
    campaign = make_campaign(5, strategy={"auto_start": False})
    with_calls(campaign)
    url = reverse("campaigns:calls", args=[campaign.pk])
    page = as_viewer.get(url).content.decode()
    assert re.search(
        r'role="columnheader" aria-sort="descending"><a class="sort-link" href="[^"]*call_sort=started"', page
    )
    assert re.search(r'aria-sort="none"><a class="sort-link" href="[^"]*call_sort=-duration"', page)
    page = as_viewer.get(url, {"call_sort": "-duration"}).content.decode()
    assert re.search(
        r'aria-sort="descending"><a class="sort-link" href="[^"]*call_sort=duration"[^>]*>Duration', page
    )
    # A column not on the list is refused beside the Sort by field, and the default order shown.
    response = as_viewer.get(url, {"call_sort": "transcript"})
    assert response.status_code == 422
    content = response.content.decode()
    assert (
        re.search(r'<select[^>]*aria-invalid="true"[^>]*id="id_call_sort"', content)
        and "Select a valid choice" in content
    )
    assert re.search(r'aria-sort="descending"><a class="sort-link" href="[^"]*call_sort=started"', content)


def test_filters_narrow_the_calls(as_viewer, make_campaign) -> None:
    campaign = make_campaign(30, strategy={"auto_start": False})
    calls = with_calls(campaign)
    url = reverse("campaigns:calls", args=[campaign.pk])

    def shown(**params: str) -> set[str]:
        return set(walk(as_viewer, url, params))

    assert shown(outcome="busy") == {str(c.pk) for c in calls if c.ended_reason == "customer-busy"}
    assert shown(outcome="failed") == {
        str(c.pk) for c in calls if c.ended_reason.startswith("pipeline-error")
    }
    assert shown(ended_reason="voicemail") == {str(c.pk) for c in calls if c.ended_reason == "voicemail"}
    assert shown(call_objective="met") == {str(c.pk) for c in calls if c.objective_met is True}
    assert shown(call_objective="unknown") == {str(c.pk) for c in calls if c.objective_met is None}
    backup = ProviderAccount.objects.get(name="Backup")
    assert shown(provider=str(backup.pk)) == {str(c.pk) for c in calls if c.provider_account_id == backup.pk}
    second_day = {str(c.pk) for c in calls if c.created_at.date() == (DAY + timedelta(days=1)).date()}
    assert second_day and shown(call_from="2026-03-11", call_to="2026-03-11") == second_day
    assert shown(call_status="queued") == set()


def test_calls_are_filtered_by_caller_id_and_another_organizations_is_refused_beside_the_field(
    as_viewer, make_campaign, other_caller_id
) -> None:
    campaign = make_campaign(12, strategy={"auto_start": False})
    calls = with_calls(campaign)
    local = PhoneNumber.objects.create(
        organization=campaign.organization,
        provider_account=campaign.phone_number.provider_account,
        number="+12125550177",
    )
    from_local = {str(c.pk) for c in calls[::4]}
    Call.objects.filter(pk__in=from_local).update(phone_number=local)
    url = reverse("campaigns:calls", args=[campaign.pk])

    assert set(walk(as_viewer, url, {"caller_id": str(local.pk)})) == from_local
    others = set(walk(as_viewer, url, {"caller_id": str(campaign.phone_number.pk)}))
    assert others == {str(c.pk) for c in calls} - from_local
    page = as_viewer.get(url).content.decode()
    assert f'<option value="{local.pk}">+12125550177</option>' in page  # offered by number
    response = as_viewer.get(url, {"caller_id": str(other_caller_id.pk)})
    assert response.status_code == 422
    assert re.search(r'<select[^>]*aria-invalid="true"[^>]*id="id_caller_id"', response.content.decode())
    assert len(set(rows_of(response.content.decode()))) == len(calls)  # the rest still apply


def test_a_wrong_filter_is_named_beside_its_field_and_the_others_still_apply(
    as_viewer, make_campaign
) -> None:
    campaign = make_campaign(10, strategy={"auto_start": False})
    calls = with_calls(campaign)
    url = reverse("campaigns:calls", args=[campaign.pk])
    response = as_viewer.get(
        url, {"call_from": "2026-03-11", "call_to": "2026-03-10", "outcome": "busy"}, **HTMX
    )
    assert response.status_code == 200 and response["HX-Refused"] == "422"  # htmx: no console error
    content = response.content.decode()
    assert re.search(r'<input[^>]*aria-invalid="true"[^>]*id="id_call_to"', content)
    assert "The last day comes on or after the first day." in content
    busy = {str(c.pk) for c in calls if c.ended_reason == "customer-busy" and c.created_at.day >= 11}
    assert busy and set(rows_of(content)) == busy
    response = as_viewer.get(url, {"call_from": "10/03/2026x"})
    assert response.status_code == 422 and "Enter a valid date." in response.content.decode()


def test_customers_sort_by_name_attempts_and_next_attempt_with_pages(as_viewer, make_campaign) -> None:
    campaign = make_campaign(60, strategy={"auto_start": False})
    rng = random.Random(3)
    for customer in Customer.objects.filter(campaign=campaign):
        Customer.objects.filter(pk=customer.pk).update(
            name=rng.choice(["Ana", "Bo", "Cy"]), attempts=rng.randint(0, 3)
        )
    url = reverse("campaigns:customers", args=[campaign.pk])
    for sort, column in (("name", "name"), ("-attempts", "attempts"), ("next", "next_attempt_at")):
        seen, key = [], None
        while True:
            content = as_viewer.get(
                url, {"sort": sort, **({"after": key} if key else {})}, **HTMX
            ).content.decode()
            seen += re.findall(r'data-customer="([0-9a-f-]{36})"', content)
            found = re.search(r'after=([^"&]+)" hx-target="#customer-rows" hx-swap="outerHTML">Next', content)
            if not found:
                break
            key = found.group(1).replace("%7E", "~").replace("%3A", ":").replace("%2B", "+")
        assert len(seen) == len(set(seen)) == 60, sort
        values = [getattr(Customer.objects.get(pk=pk), column) for pk in seen]
        assert values == sorted(values, reverse=sort.startswith("-")), sort
    page = as_viewer.get(url, {"sort": "name"}).content.decode()
    assert re.search(r'aria-sort="ascending"><a class="sort-link" href="[^"]*sort=-name"', page)
    assert re.search(r'<option value="name" selected>Name A–Z</option>', page)


@pytest.mark.skipif("connection.vendor != 'postgresql'")
@pytest.mark.parametrize("sort", ["-duration", "cost", "-started"])
def test_postgresql_reads_a_sorted_page_from_an_index(sort, make_campaign) -> None:
    """A campaign with many calls: the sorted page is an index scan, not a sort of every call."""
    campaign = make_campaign(1, strategy={"auto_start": False})
    customer = campaign.customers.get()
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO campaigns_call (id, organization_id, campaign_id, customer_id, phone_number_id,
                   provider_account_id, attempt, status, ended_reason, provider_call_id, created_at,
                   duration_seconds, cost, cost_unit, summary, transcript, recording_url,
                   stereo_recording_url, structured_data_error, report_received)
               SELECT gen_random_uuid(), %s, %s, %s, %s, %s, g, 'ended', 'customer-busy', '',
                   now() - g * interval '1 second', (g %% 600)::float, (g %% 97) / 100.0, 'USD', '', '', '',
                   '', '', false
               FROM generate_series(1, 50000) g""",
            [
                campaign.organization_id,
                campaign.pk,
                customer.pk,
                campaign.phone_number_id,
                campaign.phone_number.provider_account_id,
            ],
        )
        cursor.execute("ANALYZE campaigns_call")
    rows = selectors.campaign_calls(campaign).annotate(_sort=selectors.call_sort(sort).field.expression)
    ordered = rows.order_by(*(("-_sort", "-pk") if sort.startswith("-") else ("_sort", "pk")))[:26]
    plan = ordered.explain()
    index = {
        "-duration": "call_campaign_duration",
        "cost": "call_campaign_cost",
        "-started": "call_campaign_created",
    }[sort]
    assert index in plan and "Seq Scan on campaigns_call" not in plan, plan


def test_on_the_campaign_page_a_sorted_first_page_keeps_refreshing(as_viewer, make_campaign, owner) -> None:
    campaign = services.campaign_start(campaign=make_campaign(5, strategy={"auto_start": False}), by=owner)
    with_calls(campaign)
    page = as_viewer.get(reverse("campaigns:detail", args=[campaign.pk])).content.decode()
    assert re.search(r'hx-get="[^"]*call_sort=-duration&amp;live=1" hx-target="#call-rows"', page)
    rows = as_viewer.get(
        reverse("campaigns:calls", args=[campaign.pk]),
        {"call_sort": "-duration", "live": "1"},
        HTTP_HX_REQUEST="true",
        HTTP_HX_TARGET="call-rows",
    ).content.decode()
    assert re.search(r'<div id="call-rows" hx-get="[^"]*call_sort=-duration&amp;live=1"', rows)
    assert "every 5s" in rows  # a running campaign's rows poll


def test_the_search_finds_a_part_of_the_name_an_external_id_exactly_and_a_number_in_any_spelling(
    make_campaign,
) -> None:
    campaign = make_campaign(5, strategy={"auto_start": False})
    first, second, *_ = campaign.customers.order_by("position")
    Customer.objects.filter(pk=first.pk).update(name="Ana Lopez-García", external_id="crm-77")
    Customer.objects.filter(pk=second.pk).update(name="Bob Analyst")

    def found(text: str) -> set:
        return set(selectors.campaign_customers(campaign, q=text).values_list("pk", flat=True))

    assert found("lopez") == {first.pk}
    assert found("ANA") == {first.pk, second.pk}  # a part of the name, any case
    assert found("crm-77") == {first.pk} and found("crm-7") == set()  # the external id exactly
    assert found(first.number[2:]) == {first.pk} or found(first.number) == {first.pk}


def test_calls_are_searched_by_their_customers_number_name_or_external_id(as_viewer, make_campaign) -> None:
    campaign = make_campaign(12, strategy={"auto_start": False})
    calls = with_calls(campaign)
    first, second, *_ = campaign.customers.order_by("position")
    Customer.objects.filter(pk=first.pk).update(name="Ana Lopez-García", external_id="crm-77")
    Customer.objects.filter(pk=second.pk).update(name="Bob Analyst", external_id="50% off_")
    url = reverse("campaigns:calls", args=[campaign.pk])

    def shown(**params: str) -> set[str]:
        return set(walk(as_viewer, url, params))

    def calls_of(*customers: Customer) -> set[str]:
        return {str(c.pk) for c in calls if c.customer_id in {x.pk for x in customers}}

    assert shown(call_q="lopez") == calls_of(first)
    assert shown(call_q="ana") == calls_of(first, second)  # a part of the name, any case
    assert shown(call_q="crm-77") == calls_of(first) and shown(call_q="crm-7") == set()
    n = first.number  # +1NXXNXXXXXX, spelled as a person types it
    assert shown(call_q=f"{n[:2]} ({n[2:5]}) {n[5:8]}-{n[8:]}") == calls_of(first)
    assert shown(call_q="50% off_") == calls_of(second)  # LIKE's wildcards are the customer's letters
    assert shown(call_q="%") == set()
    # With the other filters, and kept by the pager and the sortable headers.
    busy = {str(c.pk) for c in calls if c.ended_reason == "customer-busy"}
    assert shown(call_q="customer", outcome="busy") == busy - calls_of(first, second)
    page = as_viewer.get(url, {"call_q": "ana", "call_sort": "-duration"}).content.decode()
    assert "call_q=ana" in page
    # Too long a search is named beside its field; the other filters still apply.
    refused = as_viewer.get(url, {"call_q": "x" * 101, "outcome": "busy"})
    assert refused.status_code == 422
    assert "Ensure this value has at most 100 characters" in refused.content.decode()
    assert set(rows_of(refused.content.decode())) <= busy


@pytest.mark.skipif("connection.vendor != 'postgresql'")
def test_postgresql_finds_a_part_of_a_name_through_the_trigram_index(make_campaign) -> None:
    """A campaign of 20,000 customers: a part of a name is read through the trigram index (the
    search's SQL, Django's icontains UPPER(name::text) LIKE, is the index's own expression), the
    external id through its own, never by reading every customer of the campaign."""
    from bench.bench_reads import CUSTOMERS_SQL

    campaign = make_campaign(1, strategy={"auto_start": False})
    with connection.cursor() as cursor:
        cursor.execute(
            CUSTOMERS_SQL,
            {"campaign": campaign.pk, "size": 20_000},
        )
        cursor.execute("ANALYZE campaigns_customer")
    rows = selectors.campaign_customers(campaign, q="mer 12345")
    assert [c.name for c in rows] == ["Customer 12345"]
    plan = rows.explain()
    assert "customer_name_trgm" in plan and "customer_external_id" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_the_calls_filter_form_takes_its_fields_and_the_rows_and_a_header_the_rows_alone(
    as_viewer, make_campaign
) -> None:
    campaign = make_campaign(5, strategy={"auto_start": False})
    with_calls(campaign)
    url = reverse("campaigns:calls", args=[campaign.pk])
    wrong = {"call_from": "2026-03-12", "call_to": "2026-03-10"}
    refused = as_viewer.get(
        url, wrong, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="call-rows", HTTP_HX_TRIGGER="call-filters"
    )
    body = refused.content.decode()
    assert refused["HX-Refused"] == "422"
    assert 'id="call-filter-fields"' in body and 'id="call-rows"' in body
    assert "The last day comes on or after the first day." in body
    header = as_viewer.get(
        url, {"call_sort": "-duration"}, HTTP_HX_REQUEST="true", HTTP_HX_TARGET="call-rows"
    )
    assert 'id="call-rows"' in header.content.decode() and "call-filter-fields" not in header.content.decode()


def test_no_list_aborts_a_request_it_has_sent() -> None:
    """A filter answered late is waited for, never aborted: htmx logs an aborted request as an error
    in the browser (regression: a choice and then Filter at once, or two quick choices)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    aborting = re.compile(r'hx-sync="[^"]*:\s*(replace|abort)', re.I)
    found = [str(t.relative_to(root)) for t in sorted(root.rglob("*.html")) if aborting.search(t.read_text())]
    assert found == []
