"""Paths that name no route answer Vapi's JSON error envelope (a Vapi client reading an error
finds one), except the dashboard's pages, which keep Django's HTML page for the people who open
them."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/v3/campaign"),
        ("post", "/assistant"),
        ("get", "/campaign/"),  # Vapi's paths have no trailing slash
        ("delete", "/v2/campaign/6f1c2a9e-3b7d-4c1e-9a52-0d8e7b4f2a11/contacts/1"),
        ("get", "/"),
    ],
)
def test_an_unknown_path_answers_the_envelope(method, path, api, anonymous) -> None:
    for client in (api, anonymous):
        response = getattr(client, method)(path)

        if path == "/":  # the site's root sends people to the dashboard
            assert response.status_code == 302
            continue
        assert response.status_code == 404
        assert response["Content-Type"] == "application/json"
        assert response.json() == {
            "message": [f"Cannot {method.upper()} {path}"],
            "error": "Not Found",
            "statusCode": 404,
        }


def test_the_dashboards_unknown_pages_stay_html(client, owner) -> None:
    client.force_login(owner)

    for path in ("/app/nothing-here/", "/app/campaigns/not-an-id", "/accounts/nothing/"):
        response = client.get(path, follow=True)
        assert response.status_code == 404, path
        assert response["Content-Type"].startswith("text/html"), path


def test_a_missing_object_of_a_known_route_keeps_its_own_message(api) -> None:
    response = api.get("/v2/campaign/6f1c2a9e-3b7d-4c1e-9a52-0d8e7b4f2a11")

    assert response.status_code == 404
    assert response.json()["message"] == ["campaign not found"]
