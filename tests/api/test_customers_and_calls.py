"""GET /campaign/{id}/customers and /campaign/{id}/calls: paginated like Vapi's lists, filtered
by state, reason, call status and endedReason; a call's provider log on request."""

from __future__ import annotations

from campaigns.models import Campaign


def test_customers_are_listed_in_order_with_their_state(api, create) -> None:
    body = create(3)

    page = api.get(f"/campaign/{body['id']}/customers?limit=2").json()

    assert page["metadata"] == {
        "itemsPerPage": 2,
        "totalItems": 3,
        "currentPage": 1,
        "totalPages": 2,
        "hasNextPage": True,
    }
    first = page["results"][0]
    assert set(first) == {"id", "number", "name", "state", "attempts", "nextAttemptAt", "timeZones"}
    assert (first["number"], first["state"], first["attempts"]) == ("+14155550000", "pending", 0)
    assert first["timeZones"] == ["America/Los_Angeles"]  # the number's: no timeZone or place given


def test_customers_filter_by_state(api, create) -> None:
    body = create(3)
    api.post(f"/campaign/{body['id']}/end")

    assert api.get(f"/campaign/{body['id']}/customers?state=pending").json()["metadata"]["totalItems"] == 0
    cancelled = api.get(f"/campaign/{body['id']}/customers?state=cancelled").json()
    assert cancelled["metadata"]["totalItems"] == 3
    assert cancelled["results"][0]["reason"] == "cancelled"
    assert cancelled["results"][0]["reasonDetail"] == "the campaign was ended"
    assert api.get(f"/campaign/{body['id']}/customers?state=gone").status_code == 400


def test_calls_are_listed_with_filters_and_an_optional_log(api, create, dial) -> None:
    body = create(3, dialingStrategy={"respectRecipientTimeZone": False})
    dial(
        Campaign.objects.get(pk=body["id"]),
        {0: [("in-progress", "", None), ("ended", "voicemail", None)], 1: [("ringing", "", None)]},
    )

    everything = api.get(f"/campaign/{body['id']}/calls").json()
    voicemail = api.get(f"/campaign/{body['id']}/calls?endedReason=voicemail&include=log").json()
    ringing = api.get(f"/campaign/{body['id']}/calls?status=ringing").json()

    assert everything["metadata"]["totalItems"] == 3
    assert "log" not in everything["results"][0]
    [call] = voicemail["results"]
    assert (call["number"], call["attempt"], call["status"], call["endedReason"]) == (
        "+14155550000",
        1,
        "ended",
        "voicemail",
    )
    assert {"id", "customerId", "createdAt", "startedAt", "endedAt", "durationSeconds"} <= set(call)
    assert [entry["summary"] for entry in call["log"]] == [
        "status-update in-progress",
        "status-update ended voicemail",
    ]
    assert [c["number"] for c in ringing["results"]] == ["+14155550001"]
