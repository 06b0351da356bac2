"""The campaigns table keeps half of each page free (PostgreSQL's fillfactor), so the updates a
running campaign's row takes all the time (its counters on every call and callback, why it waits,
its pacing bucket) fit on the row's own page and touch none of the table's ten indexes (a HOT
update). Full pages made most of them write a new entry in every index: a campaign row is about
600 bytes, 13 to a page. Measured on a thousand running campaigns: 36% of the updates were HOT,
76% after. A table of campaigns is small; half-empty pages cost nothing that matters.

The setting applies to pages written from now on; `VACUUM FULL campaigns_campaign` rewrites the
existing ones (README, Performance). SQLite has no such setting: nothing to do there.
"""

from django.db import migrations


def fillfactor(percent: int):
    def apply(apps, schema_editor) -> None:
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(f"ALTER TABLE campaigns_campaign SET (fillfactor = {percent})")

    return apply


class Migration(migrations.Migration):
    dependencies = [
        ("campaigns", "0027_call_fk_indexes_in_composites"),
    ]

    operations = [
        migrations.RunPython(fillfactor(50), fillfactor(100)),
    ]
