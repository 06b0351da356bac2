"""New customers' ids are time-ordered UUIDs (models.customer.customer_id): a campaign's customers
sit side by side in the primary key's index, so reading the customers of its latest calls touches
a few of its pages instead of one each.

Only Django's state changes: a Python default is no part of the schema, and an AlterField would
rebuild the whole customers table on SQLite for nothing. Existing ids stay as they are.
"""

from django.db import migrations, models

import campaigns.models.customer


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0028_campaign_fillfactor"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AlterField(
                    model_name="customer",
                    name="id",
                    field=models.UUIDField(
                        default=campaigns.models.customer.customer_id,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
            ],
        ),
    ]
