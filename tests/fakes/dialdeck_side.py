"""Dialdeck's side of tests against a fake provider: an account pointed at it, a caller ID,
campaigns with calls queued by the real dispatcher, and the counters-versus-recount check."""

from __future__ import annotations

from django.db.models import Count

from campaigns import services
from campaigns.models import Call, Campaign, Organization, PhoneNumber, ProviderAccount
from dialer import dispatch
from tests.fakes.vapi_server import FakeVapi

# The ids of spec/fixtures/provider/create-call-request.json.
FIXTURE_ASSISTANT_ID = "6f1c2a9e-3b7d-4c1e-9a52-0d8e7b4f2a11"
FIXTURE_PHONE_NUMBER_ID = "b2d4f6a8-1c3e-4a5b-8d7f-9e0a1b2c3d4e"
# Any time of day, no waiting between attempts: what tests of the provider need.
FAST = {
    "respect_recipient_time_zone": False,
    "max_attempts": 2,
    "retry_delays": {"busy": 1, "noAnswer": 1, "voicemail": 1, "failed": 1},
}
FINAL_STATES = ["completed", "voicemail", "failed", "skipped", "cancelled"]


def vapi_account(org: Organization, fake: FakeVapi) -> ProviderAccount:
    return ProviderAccount.objects.create(
        organization=org, name="Fake Vapi", kind="vapi", base_url=fake.url, api_key=fake.api_key
    )


def vapi_caller_id(account: ProviderAccount) -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=account.organization,
        provider_account=account,
        number="+14155550142",
        provider_phone_number_id=FIXTURE_PHONE_NUMBER_ID,
    )


def vapi_campaign(caller: PhoneNumber, customers: list[services.CustomerInput], **fields) -> Campaign:
    """A scheduled campaign on `caller`'s account; `fields` go to CampaignInput (strategy merges FAST)."""
    strategy = {**FAST, **fields.pop("strategy", {})}
    if not any(key in fields for key in ("assistant_id", "squad_id", "workflow_id")):
        fields["assistant_id"] = FIXTURE_ASSISTANT_ID
    data = services.CampaignInput(
        name=fields.pop("name", "Vapi renewals"),
        phone_number_id=str(caller.pk),
        customers=customers,
        strategy=strategy,
        **fields,
    )
    return services.campaign_create(organization=caller.organization, by=None, data=data)


def queue_calls(campaign: Campaign) -> list[Call]:
    """Start the campaign and let the real dispatcher queue its calls (placement is the test's job)."""
    campaign = services.campaign_start(campaign=campaign, by=None)
    dispatch.dispatch_campaign(Campaign.objects.get(pk=campaign.pk), enqueue=lambda ids: None)
    return list(Call.objects.filter(campaign=campaign, status="queued").order_by("customer__position"))


def recount(campaign: Campaign) -> dict[str, int]:
    """The counters as the Call and Customer rows say they should be."""
    by_status = dict(
        Call.objects.filter(campaign=campaign, direction="outbound")
        .values_list("status")
        .annotate(n=Count("id"))
    )
    return {
        "calls_scheduled": by_status.get("scheduled", 0),
        "calls_queued": by_status.get("queued", 0),
        "calls_in_progress": sum(by_status.get(s, 0) for s in ("ringing", "in-progress", "forwarding")),
        "calls_ended": by_status.get("ended", 0),
        "calls_ended_voicemail": Call.objects.filter(
            campaign=campaign, direction="outbound", status="ended", ended_reason="voicemail"
        ).count(),
        "customers_final": campaign.customers.filter(state__in=FINAL_STATES).count(),
    }


def counters(campaign: Campaign) -> dict[str, int]:
    campaign.refresh_from_db()
    return {key: getattr(campaign, key) for key in recount(campaign)}


def provider_account(org: Organization, kind: str, fake, **settings) -> ProviderAccount:
    """An account of `kind` pointed at `fake` (FakeTwilio, FakeRetell, ...), its credentials the fake's."""
    if kind == "twilio":
        settings = {"account_sid": fake.account_sid, "stream_url": "wss://agent.example.com/media"} | settings
        return ProviderAccount.objects.create(
            organization=org,
            name="Fake Twilio",
            kind=kind,
            base_url=fake.url,
            api_key=fake.auth_token,
            settings=settings,
        )
    account = ProviderAccount.objects.create(
        organization=org,
        name=f"Fake {kind}",
        kind=kind,
        base_url=fake.url,
        api_key=fake.api_key,
        settings=settings,
    )
    if hasattr(fake, "webhook_secret"):  # providers whose console gives the secret: ours is theirs
        ProviderAccount.objects.filter(pk=account.pk).update(webhook_secret=fake.webhook_secret)
        account.refresh_from_db()
    return account


def caller_on(account: ProviderAccount, number: str = "+14155550142", provider_id: str = "") -> PhoneNumber:
    return PhoneNumber.objects.create(
        organization=account.organization,
        provider_account=account,
        number=number,
        provider_phone_number_id=provider_id,
    )
