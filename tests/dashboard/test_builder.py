"""The campaign builder: customers checked row by row before anything is saved, errors next to fields."""

from __future__ import annotations

import re
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from campaigns import services
from campaigns.models import AuditEvent, Campaign, Customer, DialPlanEntry

pytestmark = pytest.mark.django_db

GOOD_CSV = (
    "number,name,email,externalId,plan\n"
    "+14155550101,Ada,ada@example.com,crm-1,gold\n"
    "+14155550102,Bob,,crm-2,\n"
)
TWO_BAD_ROWS = (
    "number,name\n"
    "+14155550101,Ada\n"
    "12345,Bob\n"  # line 3: not E.164
    "+14155550103,Cy\n"
    "+1415555abcd,Di\n"  # line 5: not E.164
    "+14155550105,Ed\n"
)


def form_data(caller_id, **overrides) -> dict:
    data = {
        "name": "Spring renewals",
        "agent_kind": "assistant",
        "agent_id": "asst-42",
        "caller_mode": "single",
        "phone_number": str(caller_id.pk),
        "customers_text": "",
        "time_zone": "Europe/Paris",
        "respect_recipient_time_zone": "on",
        "max_attempts": "3",
        "retry_busy": "10",
        "retry_no_answer": "30",
        "retry_voicemail_delay": "60",
        "retry_failed": "0.5",
        "retry_voicemail": "on",
        "max_concurrent_calls": "10",
        "calls_per_minute": "",
        "dialing_order": "fifo",
        "max_ring_seconds": "30",
        "priority": "5",
        "intent": "save",
        "plan-TOTAL_FORMS": "2",
        "plan-INITIAL_FORMS": "0",
        "plan-MIN_NUM_FORMS": "1",
        "plan-MAX_NUM_FORMS": "1000",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def tag(content: str, name: str) -> str:
    """The HTML tag of the input named `name`."""
    start = content.index(f'name="{name}"')
    return content[content.rindex("<", 0, start) : content.index(">", start) + 1]


def csv_file(text: str, name: str = "customers.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode(), content_type="text/csv")


def test_the_empty_builder_defaults_to_waiting_for_start_in_the_organizations_zone(
    as_manager, org, caller_id
) -> None:
    org.time_zone = "Europe/Paris"
    org.save()
    content = as_manager.get(reverse("campaigns:create")).content.decode()
    assert '<option value="Europe/Paris" selected>' in content
    assert tag(content, "auto_start").startswith('<input type="checkbox"') and " checked" not in tag(
        content, "auto_start"
    )
    assert " checked" in tag(content, "respect_recipient_time_zone")
    assert "Times are in Europe/Paris" in content


def test_it_creates_a_campaign_from_a_csv_upload(as_manager, org, caller_id) -> None:
    org.time_zone = "Europe/Paris"
    org.save()
    data = form_data(
        caller_id,
        customers_file=csv_file(GOOD_CSV),
        earliest_at="2031-01-15T09:30",
        **{"hours_mon_on": "on", "hours_mon_start": "09:00", "hours_mon_end": "17:30"},
    )
    response = as_manager.post(reverse("campaigns:create"), data)
    campaign = Campaign.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "campaigns:detail", args=[campaign.pk]
    )
    assert (campaign.name, campaign.assistant_id, campaign.phone_number_id) == (
        "Spring renewals",
        "asst-42",
        caller_id.pk,
    )
    assert campaign.earliest_at == datetime(2031, 1, 15, 9, 30, tzinfo=ZoneInfo("Europe/Paris"))
    assert campaign.earliest_at.astimezone(ZoneInfo("UTC")).hour == 8
    assert campaign.auto_start is False
    assert campaign.calling_hours == [{"day": "mon", "start": "09:00", "end": "17:30"}]
    assert campaign.retry_delays == {"busy": 600, "noAnswer": 1800, "voicemail": 3600, "failed": 30}
    assert campaign.customers_total == 2
    ada = Customer.objects.get(campaign=campaign, number="+14155550101")
    assert (ada.name, ada.email, ada.external_id) == ("Ada", "ada@example.com", "crm-1")
    assert ada.assistant_overrides == {"variableValues": {"plan": "gold"}}


def test_the_preview_lists_every_bad_row_by_line_and_saves_nothing(as_manager, caller_id) -> None:
    response = as_manager.post(
        reverse("campaigns:create"), form_data(caller_id, customers_file=csv_file(TWO_BAD_ROWS))
    )
    content = response.content.decode()
    assert response.status_code == 422
    assert not Campaign.objects.exists() and not Customer.objects.exists()
    assert "5 rows read:</strong>\n    3 ready" in content and "2 bad" in content
    assert '<tr data-line="3">' in content and '<tr data-line="5">' in content
    assert (
        "<code>12345,Bob</code>" in content
        and "Phone number: must be a full international number: + then the country code" in content
        and "E.164" not in content
    )
    # The upload moved into the paste box, to be fixed in place.
    assert "+1415555abcd,Di" in content.split('name="customers_text"', 1)[1].split("</textarea>", 1)[0]
    assert 'name="drop_bad_rows"' in content


def test_fixing_the_bad_rows_in_place_then_saves(as_manager, caller_id) -> None:
    fixed = TWO_BAD_ROWS.replace("12345,", "+14155550102,").replace("+1415555abcd,", "+14155550104,")
    response = as_manager.post(reverse("campaigns:create"), form_data(caller_id, customers_text=fixed))
    assert response.status_code == 302
    assert Campaign.objects.get().customers_total == 5


def test_ticking_drop_the_bad_rows_saves_only_the_good_ones(as_manager, caller_id) -> None:
    data = form_data(caller_id, customers_text=TWO_BAD_ROWS, drop_bad_rows="on")
    assert as_manager.post(reverse("campaigns:create"), data).status_code == 302
    numbers = set(Customer.objects.values_list("number", flat=True))
    assert numbers == {"+14155550101", "+14155550103", "+14155550105"}


def test_preview_saves_nothing_even_when_every_row_is_good(as_manager, caller_id) -> None:
    response = as_manager.post(
        reverse("campaigns:create"), form_data(caller_id, customers_text=GOOD_CSV, intent="preview")
    )
    assert response.status_code == 200 and "2 rows read:" in response.content.decode()
    assert not Campaign.objects.exists()


def test_a_number_listed_twice_is_a_bad_row(as_manager, caller_id) -> None:
    text = "number\n+14155550101\n+14155550102\n+14155550101\n"
    content = as_manager.post(
        reverse("campaigns:create"), form_data(caller_id, customers_text=text)
    ).content.decode()
    assert '<tr data-line="4">' in content and "number +14155550101 is already on line 2" in content
    assert not Campaign.objects.exists()


def test_a_pasted_column_of_numbers_needs_no_header(as_manager, caller_id) -> None:
    text = "+14155550101\n+14155550102\n"
    assert (
        as_manager.post(reverse("campaigns:create"), form_data(caller_id, customers_text=text)).status_code
        == 302
    )
    assert Campaign.objects.get().customers_total == 2


def test_a_file_without_a_number_column_is_refused_whole(as_manager, caller_id) -> None:
    data = form_data(caller_id, customers_text="name,email\nAda,a@example.com\n", drop_bad_rows="on")
    content = as_manager.post(reverse("campaigns:create"), data).content.decode()
    assert "The header line must name a number column (or a sipUri column for SIP addresses)" in content
    assert not Campaign.objects.exists()


def test_do_not_call_numbers_are_counted_in_the_preview(as_manager, org, owner, caller_id) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550102", "")])
    data = form_data(caller_id, customers_text=GOOD_CSV, intent="preview")
    content = as_manager.post(reverse("campaigns:create"), data).content.decode()
    assert "1 on the do-not-call list" in content and "saved as skipped, never called" in content
    assert "Line 3: <code>+14155550102</code> is on the do-not-call list" in content


def test_a_too_short_number_is_named_by_its_line_in_the_preview(as_manager, caller_id) -> None:
    """«Dashboard» 6: a too-short number was counted as "not possible" without saying which line."""
    text = "number,name\n+14155550101,Ada\n+1415,Bob\n"
    data = form_data(caller_id, customers_text=text, intent="preview")
    content = as_manager.post(reverse("campaigns:create"), data).content.decode()
    assert (
        'data-skipped-line="3"' in content
        and "Line 3: <code>+1415</code> is not a possible phone number" in content
    )


def test_a_campaign_needs_customers(as_manager, caller_id) -> None:
    content = as_manager.post(reverse("campaigns:create"), form_data(caller_id)).content.decode()
    assert "Add at least one customer" in content and not Campaign.objects.exists()


def test_form_errors_appear_next_to_their_fields(as_manager, caller_id) -> None:
    data = form_data(
        caller_id,
        name="",
        phone_number="",
        customers_text=GOOD_CSV,
        max_attempts="50",
        **{"hours_tue_on": "on"},
    )
    response = as_manager.post(reverse("campaigns:create"), data)
    content = response.content.decode()
    assert response.status_code == 422
    assert 'id="id_name_error"' in content and 'aria-invalid="true"' in content
    assert 'id="id_phone_number_error"' in content and "Choose the caller ID to call from." in content
    assert 'id="id_max_attempts_error"' in content
    assert "Give a time, or untick the day." in content


def test_the_services_errors_come_back_next_to_their_fields(as_manager, caller_id) -> None:
    data = form_data(
        caller_id,
        customers_text=GOOD_CSV,
        recipient_earliest="06:00",
        earliest_at="2031-01-15T09:30",
        latest_at="2031-01-14T09:30",
    )
    content = as_manager.post(reverse("campaigns:create"), data).content.decode()
    errors_of = lambda name: content.split(f'id="id_{name}_error"', 1)[1].split("</ul>", 1)[0]  # noqa: E731
    assert "may only narrow the organization&#x27;s calling hours (08:00–21:00)" in errors_of(
        "recipient_earliest"
    )
    assert "must not be before earliestAt" in errors_of("latest_at")
    assert not Campaign.objects.exists()


def test_it_builds_a_dial_plan_with_a_list_per_caller_id(as_manager, caller_id, second_caller_id) -> None:
    data = form_data(
        caller_id,
        caller_mode="dial_plan",
        phone_number="",
        **{
            "plan-0-phone_number": str(caller_id.pk),
            "plan-0-customers_text": "number\n+14155550101\n+14155550102\n",
            "plan-1-phone_number": str(second_caller_id.pk),
            "plan-1-customers_file": csv_file("number\n+12125550101\n"),
        },
    )
    assert as_manager.post(reverse("campaigns:create"), data).status_code == 302
    campaign = Campaign.objects.get()
    assert campaign.uses_dial_plan and campaign.customers_total == 3
    entries = {
        e.phone_number_id: e.customers.count() for e in DialPlanEntry.objects.filter(campaign=campaign)
    }
    assert entries == {caller_id.pk: 2, second_caller_id.pk: 1}


def test_a_dial_plan_line_without_a_caller_id_is_an_error_on_that_line(as_manager, caller_id) -> None:
    data = form_data(
        caller_id, caller_mode="dial_plan", **{"plan-0-customers_text": "number\n+14155550101\n"}
    )
    content = as_manager.post(reverse("campaigns:create"), data).content.decode()
    assert 'id="id_plan-0-phone_number_error"' in content and not Campaign.objects.exists()


def test_add_a_caller_id_adds_a_line_and_saves_nothing(as_manager, caller_id) -> None:
    data = form_data(caller_id, caller_mode="dial_plan", intent="add_line")
    content = as_manager.post(reverse("campaigns:create"), data).content.decode()
    assert 'name="plan-2-phone_number"' in content and not Campaign.objects.exists()


def test_editing_a_scheduled_campaign_changes_it_and_adds_customers(
    as_manager, campaign, second_caller_id
) -> None:
    page = as_manager.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()
    assert 'value="Renewals"' in page
    data = form_data(
        second_caller_id,
        name="Renewals (March)",
        agent_kind="workflow",
        agent_id="wf-9",
        max_attempts="5",
        customers_text="number\n+14155550000\n+13125550199\n",
    )
    data.pop("caller_mode")
    response = as_manager.post(reverse("campaigns:edit", args=[campaign.pk]), data, follow=True)
    assert "Added 1 customers (1 already in the campaign were skipped)." in response.content.decode()
    campaign.refresh_from_db()
    assert (campaign.name, campaign.workflow_id, campaign.assistant_id) == ("Renewals (March)", "wf-9", None)
    assert campaign.phone_number_id == second_caller_id.pk and campaign.max_attempts == 5
    assert campaign.customers_total == 6


def test_a_paused_campaign_keeps_its_agent_and_schedule_but_takes_new_rules(
    as_manager, running, owner, caller_id
) -> None:
    services.campaign_pause(campaign=running, by=owner)
    page = as_manager.get(reverse("campaigns:edit", args=[running.pk])).content.decode()
    assert " disabled" in tag(page, "agent_id") and " disabled" in tag(page, "earliest_at")
    assert " disabled" not in tag(page, "max_concurrent_calls")
    data = form_data(caller_id, name="Renewals", agent_id="someone-else", max_concurrent_calls="3")
    assert as_manager.post(reverse("campaigns:edit", args=[running.pk]), data).status_code == 302
    running.refresh_from_db()
    assert (
        running.assistant_id == "asst-1" and running.max_concurrent_calls == 3 and running.status == "paused"
    )


def test_an_ended_campaign_cannot_be_edited(as_manager, campaign, owner) -> None:
    services.campaign_end(campaign=campaign, by=owner)
    response = as_manager.get(reverse("campaigns:edit", args=[campaign.pk]), follow=True)
    assert "can be edited while scheduled or paused" in response.content.decode()


# -- caller-ID pools ------------------------------------------------------------------------------


def test_a_campaign_is_created_with_a_local_presence_pool(as_manager, caller_id, second_caller_id) -> None:
    data = form_data(
        caller_id,
        customers_text=GOOD_CSV,
        pool_mode="local-presence",
        pool_numbers=[str(second_caller_id.pk)],
    )
    response = as_manager.post(reverse("campaigns:create"), data)
    assert response.status_code == 302, response.content.decode()[:2000]
    campaign = Campaign.objects.get()
    assert campaign.caller_id_mode == "local-presence"
    assert list(campaign.caller_pool.values_list("phone_number_id", flat=True)) == [second_caller_id.pk]


def test_a_split_pool_on_one_provider_is_refused_next_to_the_mode(
    as_manager, caller_id, second_caller_id
) -> None:
    data = form_data(
        caller_id, customers_text=GOOD_CSV, pool_mode="split", pool_numbers=[str(second_caller_id.pk)]
    )
    response = as_manager.post(reverse("campaigns:create"), data)
    assert response.status_code == 422
    assert "split needs caller IDs of at least two provider accounts" in response.content.decode()
    assert not Campaign.objects.exists()


def test_the_pool_is_changed_on_the_edit_page(as_manager, caller_id, second_caller_id, campaign) -> None:
    edit = reverse("campaigns:edit", args=[campaign.pk])
    assert 'name="pool_mode"' in as_manager.get(edit).content.decode()
    data = form_data(
        caller_id, name=campaign.name, pool_mode="local-presence", pool_numbers=[str(second_caller_id.pk)]
    )
    data.pop("caller_mode")
    response = as_manager.post(edit, data)
    assert response.status_code == 302, response.content.decode()[:3000]
    campaign.refresh_from_db()
    assert campaign.caller_id_mode == "local-presence"


def test_a_typed_campaigns_preview_shows_its_data_fields_and_names_rows_that_break_them(
    as_manager, campaign, owner, caller_id
) -> None:
    schema = {
        "type": "object",
        "properties": {"plan": {"enum": ["basic", "premium"]}, "renewal": {"type": "string"}},
    }
    services.campaign_schema_set(campaign=campaign, by=owner, data_schema=schema)
    text = "number,plan,renewal\n+14155550101,premium,2026-12-31\n+14155550102,gold,\n+14155550103,basic,\n"
    data = form_data(caller_id, name="Renewals", customers_text=text, intent="preview")
    data.pop("caller_mode")

    page = as_manager.post(reverse("campaigns:edit", args=[campaign.pk]), data).content.decode()

    assert '<th scope="col">plan</th><th scope="col">renewal</th>' in page
    assert re.search(
        r'data-sample-line="2">.*?<td data-label="plan">premium</td><td data-label="renewal">2026-12-31', page
    )
    assert 'data-sample-line="4"' in page and 'data-sample-line="3"' not in page
    bad = re.search(r'<tr data-line="3">.*?</tr>', page, re.S).group(0)
    assert "plan: &#x27;gold&#x27; is not one of [&#x27;basic&#x27;, &#x27;premium&#x27;]" in bad
    assert campaign.customers.count() == 5  # a preview saves nothing


# -- the builder's pre-flight: what saving would give, nothing saved ------------------------------

# 00:00–06:00 in Los Angeles, every day: never inside a Los Angeles callee's 08:00–21:00.
NIGHT_ONLY = {"time_zone": "America/Los_Angeles"} | {
    f"hours_{day}_{part}": value
    for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
    for part, value in (("on", "on"), ("start", "00:00"), ("end", "06:00"))
}


def preflight_of(content: str, key: str) -> str:
    found = re.search(rf'data-preflight="{key}">([^<]*)<', content)
    assert found, content
    return found.group(1).strip()


def test_the_builders_preflight_counts_who_could_be_called_and_saves_nothing(
    as_manager, org, owner, caller_id
) -> None:
    services.dnc_add(organization=org, by=owner, numbers=[("+14155550103", "")])
    before = (Campaign.objects.count(), Customer.objects.count())
    text = "number,name\n+14155550101,Ada\n+14155550102,Bob\n+14155550103,Cy\n12345,Di\n"
    url = reverse("campaigns:create-preflight")

    answer = as_manager.post(url, form_data(caller_id, customers_text=text), HTTP_HX_REQUEST="true")

    page = answer.content.decode()
    assert answer.status_code == 200 and 'id="builder-preflight"' in page
    assert preflight_of(page, "pending") == "2"  # the bad row is not counted, the DNC one is held
    assert 'data-reason="do_not_call"' in page
    assert (Campaign.objects.count(), Customer.objects.count()) == before  # nothing saved
    # "Check the customers" shows it too, on the whole page.
    checked = as_manager.post(
        reverse("campaigns:create"), form_data(caller_id, customers_text=text, intent="preview")
    ).content.decode()
    assert preflight_of(checked, "pending") == "2" and 'hx-post="/app/campaigns/new/preflight"' in checked
    assert (Campaign.objects.count(), Customer.objects.count()) == before

    # Hours the callee's window never meets: said before anything is saved.
    night = as_manager.post(
        url, form_data(caller_id, customers_text=text, **NIGHT_ONLY), HTTP_HX_REQUEST="true"
    )
    assert preflight_of(night.content.decode(), "held") == "2"
    assert 'data-reason="no_common_hours"' in night.content.decode()

    # A form that cannot be saved has no pre-flight yet, and says why.
    refused = as_manager.post(url, form_data(caller_id, customers_text=text, name=""), HTTP_HX_REQUEST="true")
    assert 'data-preflight="none"' in refused.content.decode()
    assert "Shown once the fields above can be saved" in refused.content.decode()
    assert (Campaign.objects.count(), Customer.objects.count()) == before


def test_editing_shows_the_preflight_of_the_unsaved_hours(as_manager, make_campaign) -> None:
    campaign = make_campaign(3)
    page = as_manager.get(reverse("campaigns:edit", args=[campaign.pk])).content.decode()
    assert 'id="builder-preflight"' in page and preflight_of(page, "pending") == "3"
    assert f'hx-post="/app/campaigns/{campaign.pk}/edit/preflight"' in page

    data = form_data(campaign.phone_number, name=campaign.name, agent_id="asst-1", **NIGHT_ONLY)
    data.pop("caller_mode")
    answer = as_manager.post(
        reverse("campaigns:edit-preflight", args=[campaign.pk]), data, HTTP_HX_REQUEST="true"
    )
    assert preflight_of(answer.content.decode(), "held") == "3"
    assert Campaign.objects.get(pk=campaign.pk).calling_hours == campaign.calling_hours  # not saved
    assert not AuditEvent.objects.filter(action="campaign.update").exists()
