"""Create the demo organization, user, simulated provider, caller IDs and a running campaign.

Idempotent: running it again changes nothing. The demo user's password comes
from DEMO_PASSWORD, or is generated and printed once when the user is created.
"""

from __future__ import annotations

import os
import secrets

import phonenumbers
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from campaigns import services
from campaigns.models import Campaign, Membership, Organization, PhoneNumber, ProviderAccount, Role

DEMO_CAMPAIGN = "Demo: service follow-up (worldwide)"
# Regions chosen so that, whatever the hour, some customers are inside 08:00–21:00 local time
# and some must wait: the Americas, Europe, Africa, Asia and Oceania.
REGIONS = [
    "US",
    "CA",
    "MX",
    "BR",
    "AR",
    "GB",
    "FR",
    "DE",
    "ES",
    "IT",
    "PL",
    "ZA",
    "NG",
    "KE",
    "AE",
    "IN",
    "SG",
    "JP",
    "KR",
    "AU",
    "NZ",
    "PH",
    "ID",
    "TR",
    "SE",
]
US_AREA_CODES = ["212", "312", "303", "415", "907", "808", "305", "206"]
PER_REGION = 12


def demo_numbers() -> list[tuple[str, str]]:
    """(E.164 number, region) pairs, the same on every run."""
    out: list[tuple[str, str]] = []
    for region in REGIONS:
        example = phonenumbers.example_number_for_type(
            region, phonenumbers.PhoneNumberType.MOBILE
        ) or phonenumbers.example_number(region)
        base = phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164)
        for i in range(PER_REGION):
            out.append((base[:-2] + f"{(int(base[-2:]) + i) % 100:02d}", region))
    for code in US_AREA_CODES:
        for i in range(PER_REGION):
            out.append((f"+1{code}555{1000 + i:04d}", "US"))
    return out


class Command(BaseCommand):
    help = "Create (once) the demo organization, user, provider, caller IDs and campaign."

    @transaction.atomic
    def handle(self, *args: object, **options: object) -> None:
        org, _ = Organization.objects.get_or_create(
            slug="demo", defaults={"name": "Demo Org", "time_zone": "Europe/Paris"}
        )
        user_model = get_user_model()
        user = user_model.objects.filter(username="demo").first()
        if user is None:
            password = os.environ.get("DEMO_PASSWORD") or secrets.token_urlsafe(12)
            user = user_model.objects.create_superuser("demo", "demo@example.com", password)
            if os.environ.get("DEMO_PASSWORD"):
                self.stdout.write("Created user 'demo' with the password from DEMO_PASSWORD.")
            else:
                self.stdout.write(
                    self.style.WARNING(
                        f"Created user 'demo' with password: {password}  "
                        "(shown once; set DEMO_PASSWORD to choose it)"
                    )
                )
        Membership.objects.get_or_create(user=user, organization=org, defaults={"role": Role.ADMIN})
        provider, _ = ProviderAccount.objects.get_or_create(
            organization=org,
            name="Simulated calls",
            kind="simulated",
            # Some callees call back (dialer.providers.simulated): the demo campaign routes them;
            # answered calls stream their live transcripts.
            defaults={"settings": {"seed": 7, "callbacks": 10, "transcripts": True}},
        )
        numbers = []
        for number, name in [("+14155550100", "Main line (US)"), ("+442071838750", "London office")]:
            phone, _ = PhoneNumber.objects.get_or_create(
                organization=org,
                number=number,
                deleted_at=None,
                defaults={"provider_account": provider, "name": name},
            )
            numbers.append(phone)
        if Campaign.objects.filter(organization=org, name=DEMO_CAMPAIGN).exists():
            self.stdout.write("Demo data already present.")
            return
        rows = [
            services.CustomerInput(
                number=number,
                name=f"Demo {region} {i:03d}",
                external_id=f"demo-{i:04d}",
                assistant_overrides={"variableValues": {"region": region}},
                source=f"row {i}",
            )
            for i, (number, region) in enumerate(demo_numbers())
        ]
        half = len(rows) // 2
        campaign = services.campaign_create(
            organization=org,
            by=user,
            data=services.CampaignInput(
                name=DEMO_CAMPAIGN,
                assistant_id="demo-assistant",
                dial_plan=[
                    services.DialPlanInput(phone_number_id=str(numbers[0].pk), customers=rows[:half]),
                    services.DialPlanInput(phone_number_id=str(numbers[1].pk), customers=rows[half:]),
                ],
                strategy={
                    "max_concurrent_calls": 8,
                    "max_attempts": 3,
                    "time_zone": "Europe/Paris",
                    "retry_delays": {"busy": 120, "noAnswer": 300, "voicemail": 600, "failed": 180},
                },
                outcomes={"inbound_mode": "route", "inbound_rejection_message": "We will call you back."},
            ),
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Created demo campaign with {campaign.customers_total} customers; it starts dialing at once."
            )
        )
