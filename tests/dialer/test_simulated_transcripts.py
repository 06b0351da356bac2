"""The simulated provider's live transcripts (account setting `transcripts`): an answered call
streams the script while it talks, a machine hears the campaign's voicemail message verbatim, and
nothing streams unless the account asks."""

from __future__ import annotations

import pytest

from campaigns.models import Call, Campaign
from campaigns.services.inputs import TRANSCRIPT
from dialer.providers.simulated import SCRIPT, SimulatedProvider
from tests.fakes.dialdeck_side import queue_calls

pytestmark = pytest.mark.django_db


def plan_of(call: Call) -> list:
    return SimulatedProvider(account=call.provider_account)._plan(call)


def lines_of(call: Call) -> list[tuple[float, str, str]]:
    return [(at, e.role, e.transcript) for at, e in plan_of(call) if e.kind == TRANSCRIPT]


def first_call(make_campaign, provider, mix: dict, **outcomes) -> Call:
    provider.settings = {"seed": 3, "mix": mix, "transcripts": True}
    provider.save()
    campaign = make_campaign(1, strategy={"respect_recipient_time_zone": False}, outcomes=outcomes)
    return queue_calls(Campaign.objects.get(pk=campaign.pk))[0]


def test_an_answered_call_streams_the_script_while_it_talks(make_campaign, provider) -> None:
    call = first_call(make_campaign, provider, {"answered": 100})
    lines = lines_of(call)
    assert [(role, words) for _, role, words in lines] == [
        (role, words.format(campaign=call.campaign.name)) for role, words in SCRIPT
    ]
    times = {e.status: at for at, e in plan_of(call) if e.kind == "status-update"}
    assert times["in-progress"] < lines[0][0] and lines[-1][0] < times["ended"]  # said while talking


def test_a_machine_hears_the_voicemail_message_as_written(make_campaign, provider) -> None:
    message = "Call us back on {number} — 50% off {until Friday}"
    call = first_call(
        make_campaign,
        provider,
        {"voicemail": 100},
        voicemail_plan={"action": "leave-message", "message": message, "then": "done"},
    )
    assert [(role, words) for _, role, words in lines_of(call)] == [("assistant", message)]


def test_nothing_streams_unless_the_account_asks(make_campaign, provider) -> None:
    call = first_call(make_campaign, provider, {"answered": 100})
    provider.settings = {"seed": 3, "mix": {"answered": 100}}
    provider.save()
    call.provider_account.refresh_from_db()
    assert lines_of(call) == []
