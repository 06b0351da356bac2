"""The call's organization, campaign and customer foreign keys lose their own indexes: each leads a
composite index that answers the same lookups (call_org_created, call_campaign_created,
call_attempt_unique), and a call's every update wrote all of them again.

The indexes are dropped by name. Django's AlterField(db_index=False) drops every single-column
index on the column it finds, and on customer_id that includes the unique partial index
call_one_live_per_customer: the constraint that a customer is never in two live calls (and it
drops and re-adds the foreign keys, which checks every row of the table again).
"""

import django.db.models.deletion
from django.db import migrations, models

INDEXES = {
    "organization": "campaigns_call_organization_id_2f1664f7",
    "campaign": "campaigns_call_campaign_id_f97905b6",
    "customer": "campaigns_call_customer_id_1a33e660",
}
TARGETS = {
    "organization": "campaigns.organization",
    "campaign": "campaigns.campaign",
    "customer": "campaigns.customer",
}
RELATED = {"organization": "+", "campaign": "calls", "customer": "calls"}


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0026_customer_echo"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="call",
                    name=name,
                    field=models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name=RELATED[name],
                        to=TARGETS[name],
                    ),
                )
                for name in INDEXES
            ],
            database_operations=[
                migrations.RunSQL(
                    f'DROP INDEX IF EXISTS "{index}"',
                    reverse_sql=f'CREATE INDEX "{index}" ON "campaigns_call" ("{name}_id")',
                )
                for name, index in INDEXES.items()
            ],
        ),
    ]
