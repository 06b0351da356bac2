"""A manager gives a campaign a split caller-ID pool in the builder (a bad choice refused next to
its field first), then reads the providers side by side on the campaign page; at 1280 and 390 px."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from campaigns.models import Campaign, PhoneNumber, ProviderAccount
from tests.dashboard.test_caller_pools import split_campaign
from tests.e2e.browser import check_page, log_in, shoot

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("width", [1280, 390])
def test_a_manager_chooses_a_split_pool_in_the_builder(
    width, live_server, page: Page, org, caller_id, manager
) -> None:
    other = ProviderAccount.objects.create(organization=org, name="Agent B", kind="simulated")
    theirs = PhoneNumber.objects.create(organization=org, provider_account=other, number="+12125550188")
    same = PhoneNumber.objects.create(
        organization=org, provider_account=caller_id.provider_account, number="+12125550199"
    )
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, manager.username)

    page.get_by_role("link", name="New campaign").click()
    page.get_by_label("Name").fill("A/B agents")
    page.get_by_label("Voice agent id").fill("asst-e2e")
    page.get_by_label("Caller ID to call from").select_option(str(caller_id.pk))
    page.get_by_label("…or paste CSV rows", exact=True).fill("number\n+14155550101\n+12125550102\n")
    weights = page.get_by_role(
        "group", name="Split weights (split mode: share of customers per provider account)"
    )
    expect(weights).to_be_hidden()  # only with the split mode
    page.get_by_label("Split across providers", exact=False).check()
    expect(weights).to_be_visible()
    page.get_by_label(f"{same.number} (Simulated)").check()  # one provider only: refused
    page.get_by_role("button", name="Save campaign").click()

    expect(page.locator("#id_pool_mode_error")).to_contain_text(
        "split needs caller IDs of at least two provider accounts"
    )
    assert not Campaign.objects.exists()
    page.get_by_label(f"{theirs.number} (Agent B)").check()
    page.get_by_label("Weight of Agent B").fill("3")
    check_page(page)
    page.get_by_role("button", name="Save campaign").click()

    expect(page.get_by_role("heading", level=1)).to_contain_text("A/B agents")
    campaign = Campaign.objects.get()
    assert campaign.caller_id_mode == "split"
    assert dict(campaign.caller_id_weights) == {str(caller_id.provider_account_id): 1, str(other.pk): 3}


@pytest.mark.parametrize("width", [1280, 390])
def test_the_campaign_page_compares_its_providers(
    width, live_server, page: Page, org, owner, caller_id, viewer
) -> None:
    campaign, _ = split_campaign(org, owner, caller_id)
    page.set_viewport_size({"width": width, "height": 800})
    log_in(page, live_server.url, viewer.username)

    page.goto(f"{live_server.url}/app/campaigns/{campaign.pk}")

    table = page.get_by_role("region", name="Comparison")
    expect(page.get_by_role("heading", name="Side by side")).to_be_visible()
    a = table.get_by_role("row", name="A Simulated")
    b = table.get_by_role("row", name="B Agent B")
    expect(a.get_by_role("cell").nth(1)).to_have_text("100%")  # answer rate
    expect(a.get_by_role("cell").nth(2)).to_have_text("100%")  # objective rate
    expect(a.get_by_role("cell").nth(3)).to_have_text("1 min 00 s")
    expect(a.get_by_role("cell").nth(4)).to_have_text("$0.10")
    expect(b.get_by_role("cell").nth(2)).to_have_text("0%")
    check_page(page)
    shoot(page, "campaign-comparison")
