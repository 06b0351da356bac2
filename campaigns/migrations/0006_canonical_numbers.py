"""Data for «Compliance holes»: calls that may have reached a provider are marked confirmed at
the gate, provider timestamps beyond any sane date are dropped, and the numbers of customers not
yet final are put in canonical form (campaigns.phone.to_e164) and zoned again."""

from __future__ import annotations

from datetime import UTC, datetime

from django.db import IntegrityError, migrations, transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce

FINAL = ("completed", "voicemail", "failed", "skipped", "cancelled")


def forwards(apps, schema_editor):
    from campaigns import phone

    Call = apps.get_model("campaigns", "Call")
    CallLog = apps.get_model("campaigns", "CallLog")
    Customer = apps.get_model("campaigns", "Customer")

    requested = CallLog.objects.filter(call=OuterRef("pk"), kind="request")
    Call.objects.filter(Q(~Q(status="queued") | ~Q(provider_call_id="")) | Q(Exists(requested))).update(
        confirmed_at=Coalesce(F("placing_at"), F("placed_at"), F("created_at"))
    )
    beyond = datetime(2200, 1, 1, tzinfo=UTC)
    for field in ("started_at", "ended_at"):
        Call.objects.filter(**{f"{field}__gte": beyond}).update(**{field: None})

    open_customers = (
        Customer.objects.exclude(state__in=FINAL)
        .exclude(number="")
        .only("pk", "campaign_id", "number", "number_e164_check_enabled", "time_zones")
    )
    for customer in open_customers.iterator(chunk_size=5000):
        canonical = phone.customer_number(customer.number, e164_check=customer.number_e164_check_enabled)
        if canonical is None and customer.number_e164_check_enabled:
            continue
        zones = ",".join(phone.time_zones_for(canonical)) if canonical else ""
        if canonical in (None, customer.number) and zones == customer.time_zones:
            continue
        changes = {"time_zones": zones}
        if canonical not in (None, customer.number):
            changes |= {"number": canonical, "number_submitted": customer.number}
        try:
            with transaction.atomic():
                Customer.objects.filter(pk=customer.pk).update(**changes)
        except IntegrityError:  # the campaign has the canonical number already: keep the zones only
            Customer.objects.filter(pk=customer.pk).update(time_zones=zones)


class Migration(migrations.Migration):
    dependencies = [("campaigns", "0005_compliance")]

    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
