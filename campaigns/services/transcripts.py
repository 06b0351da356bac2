"""Live transcripts: the final lines a provider streams while a call is under way (CallEvent kind
TRANSCRIPT), kept per call in the order they were said, each once.

Recorded by services.record_call_events with the other events of a batch, in its transaction,
without locking anything: a line changes no call, customer, campaign or counter, so a flood of
lines never waits on (or holds) the rows the dialer moves. A line delivered twice is kept once
(TranscriptLine's unique (call, at, role)); a line naming no call of its account is dropped.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta

from campaigns.models import Call, ProviderAccount, TranscriptLine, TranscriptRole
from campaigns.services.inputs import CallEvent


def transcript_lines_record(
    items: list[tuple[ProviderAccount, CallEvent]], calls: list[uuid.UUID | None], now: datetime
) -> list[Call | None]:
    """Keep each event's line on its call (`calls`: each event's call id, None for one naming no
    call of its account), in one INSERT that skips lines already kept. A line without a time
    takes `now`; one without words or with an unknown speaker is not kept. Returns, per event,
    its call (id, campaign and status loaded) or None."""
    lines = [
        TranscriptLine(
            call_id=pk,
            # Without a time of its own (none given, or too far from ours to be believed), a line
            # is kept at `now`, a microsecond apart from the batch's others, so none hides another.
            at=event.at or now + timedelta(microseconds=i),
            role=event.role,
            text=event.transcript.strip()[: TranscriptLine.TEXT_LIMIT],
        )
        for i, ((_, event), pk) in enumerate(zip(items, calls, strict=True))
        if pk is not None and event.role in TranscriptRole.values and event.transcript.strip()
    ]
    TranscriptLine.objects.bulk_create(lines, ignore_conflicts=True)
    found = Call.objects.only("pk", "campaign_id", "status").in_bulk({pk for pk in calls if pk})
    return [found.get(pk) if pk else None for pk in calls]
