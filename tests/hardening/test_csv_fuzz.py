"""Hostile CSV files for every import: a clear error or a correct import, never a 500, never half-saved."""

from __future__ import annotations

import io

import pytest

from campaigns.models import Customer, DoNotCall

GOOD_HEADER = "number,name,plan\n"


def upload(client, url: str, content: bytes, name: str = "list.csv"):
    handle = io.BytesIO(content)
    handle.name = name
    return client.post(url, {"file": handle}, format="multipart")


@pytest.fixture
def campaign(make_campaign):
    return make_campaign(1)


CASES = {
    # name: (bytes, expected status, expected customers added, a phrase of the message)
    "utf8-with-bom": (("\ufeff" + GOOD_HEADER + "+14155550001,Ana,gold\n").encode(), 201, 1, None),
    "semicolons": (b"number;name;plan\n+14155550001;Ana;gold\n+14155550002;Ben;silver\n", 201, 2, None),
    "quoted-newline": (b'number,name,plan\n+14155550001,"Ana\nMaria",gold\n', 201, 1, None),
    "crlf": (b"number,name,plan\r\n+14155550001,Ana,gold\r\n", 201, 1, None),
    "latin-1": ("number,name\n+14155550001,Jos\xe9\n".encode("latin-1"), 400, 0, "UTF-8"),
    "utf-16": ("number,name\n+14155550001,Ana\n".encode("utf-16"), 400, 0, None),
    "empty": (b"", 400, 0, "empty"),
    "header-only": (GOOD_HEADER.encode(), 400, 0, "no rows"),
    "no-number-column": (b"name,plan\nAna,gold\n", 400, 0, "number"),
    "bad-quote": (b'number,name\n+14155550001,"Ana\n', 400, 0, None),
    "too-many-cells": (b"number,name\n+14155550001,Ana,extra,more\n", 400, 0, "line 2"),
    "binary-garbage": (bytes(range(256)) * 4, 400, 0, None),
    "formula-cells": (b'number,name\n+14155550001,=HYPERLINK("x")\n', 201, 1, None),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_hostile_customer_file_is_refused_clearly_or_imported_whole(api, campaign, case) -> None:
    content, status, added, phrase = CASES[case]
    before = Customer.objects.filter(campaign=campaign).count()
    response = upload(api, f"/campaign/{campaign.pk}/customers", content)
    assert response.status_code == status, response.content[:500]
    assert Customer.objects.filter(campaign=campaign).count() == before + added
    if status == 400:
        body = response.json()
        assert body["statusCode"] == 400 and body["message"], body
        if phrase:
            assert any(phrase in message for message in body["message"]), body["message"]


def test_a_file_with_one_bad_row_in_a_thousand_saves_nothing_and_names_the_line(api, campaign) -> None:
    rows = [f"+1415555{i:04d},C{i},x" for i in range(1000)]
    rows[736] = "not-a-number,C736,x"
    content = (GOOD_HEADER + "\n".join(rows) + "\n").encode()
    response = upload(api, f"/campaign/{campaign.pk}/customers", content)
    assert response.status_code == 400
    assert response.json()["message"] == ["line 738: number must be a valid phone number in E.164 format"]
    assert Customer.objects.filter(campaign=campaign).count() == 1


def test_a_50_mb_file_is_streamed_and_imported_correctly(api, campaign) -> None:
    # A million lines of one number: one customer added, every other line a counted duplicate.
    line = b"+14155550001,A very long name that repeats,gold\n"
    lines = 50 * 1024 * 1024 // len(line) + 1
    response = upload(api, f"/campaign/{campaign.pk}/customers", GOOD_HEADER.encode() + line * lines)
    assert response.status_code == 201, response.content[:300]
    assert (response.json()["added"], response.json()["duplicates"]) == (1, lines - 1)
    assert Customer.objects.filter(campaign=campaign).count() == 2


DNC_CASES = {
    "good": (b"number,note\n+14155550001,asked\n+14155550002,\n", 201, 2),
    "bom-semicolons": ("\ufeffnumber;note\n+14155550001;asked\n".encode(), 201, 1),
    "empty": (b"", 400, 0),
    "header-only": (b"number,note\n", 400, 0),
    "bad-number": (b"number\n+14155550001\n12345\n", 400, 0),
    "latin-1": ("number,note\n+14155550001,r\xe9ponse\n".encode("latin-1"), 400, 0),
}


@pytest.mark.parametrize("case", list(DNC_CASES))
def test_a_hostile_do_not_call_file_is_refused_clearly_or_imported_whole(api, org, case) -> None:
    content, status, added = DNC_CASES[case]
    response = upload(api, "/dnc", content)
    assert response.status_code == status, response.content[:500]
    assert DoNotCall.objects.filter(organization=org).count() == added
