"""The donor's e-certificate in the portal (SCENARIOS C: "the referrer sees the running
total and gets an e-certificate"): their own fulfilled donations only, behind the portal
session like every other portal action."""

import io
from datetime import timedelta

import time_machine
from django.test import Client
from PIL import Image

from rewards.models import Reward

from .conftest import T0, portal_client, shop_with_charity, tick

# Lena's purchase (T0 + 1 h) ends its 7-day no-return window here.
KEPT = T0 + timedelta(days=7, hours=1)


def _shop(tenant, api, *, certificate: bool):
    shop_with_charity(tenant, api, certificate=certificate)
    return Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="charity:trees"
    )


def test_the_donor_downloads_the_png_certificate_of_her_fulfilled_donation(tenant, api):
    donation = _shop(tenant, api, certificate=True)
    with time_machine.travel(KEPT + timedelta(minutes=1), tick=False):
        tick()
    donation.refresh_from_db()
    assert (donation.kind, donation.amount_minor, donation.status) == ("donation", 500, "fulfilled")

    with time_machine.travel(KEPT + timedelta(hours=1), tick=False):
        client = portal_client(api, "alice")
        home = client.get("/portal/").content.decode()
        response = client.get(f"/portal/rewards/{donation.pk}/certificate.png")

    url = f"/portal/rewards/{donation.pk}/certificate.png"
    assert (
        '<dd data-testid="charity">¥5</dd><dd class="figure-link">'
        f'<a href="{url}" download="certificate-{donation.pk}.png" data-testid="certificate">'
        "Certificate</a></dd>"
    ) in home
    # The donation's own row in "Your rewards" links to it as well.
    assert home.count(f'href="{url}"') == 2
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"] == (
        f'attachment; filename="certificate-{donation.pk}.png"'
    )
    assert response["Cache-Control"] == "private, no-store"
    image = Image.open(io.BytesIO(response.content))
    assert (image.format, image.size, image.mode) == ("PNG", (1200, 800), "RGB")


def test_a_certificate_is_the_donors_own_and_only_once_the_donation_is_fulfilled(tenant, api):
    donation = _shop(tenant, api, certificate=True)
    url = f"/portal/rewards/{donation.pk}/certificate.png"
    with time_machine.travel(T0 + timedelta(days=1), tick=False):
        # Still inside the no-return window: a refund could yet reverse the donation.
        alice = portal_client(api, "alice")
        assert 'data-testid="certificate"' not in alice.get("/portal/").content.decode()
        assert alice.get(url).status_code == 404
    with time_machine.travel(KEPT + timedelta(minutes=1), tick=False):
        tick()
    with time_machine.travel(KEPT + timedelta(hours=1), tick=False):
        assert portal_client(api, "alice").get(url).status_code == 200
        # Lena, signed into her own portal, gets the same answer as for a missing reward.
        lena = portal_client(api, "lena")
        assert lena.get(url).status_code == 404
        assert lena.get("/portal/rewards/999999/certificate.png").status_code == 404
        # A reward of Alice's that is not a donation has no certificate either.
        points = Reward.objects.for_tenant(tenant).get(
            participant__external_id="alice", reason="stage:success_points", status="fulfilled"
        )
        alice = portal_client(api, "alice")
        assert alice.get(f"/portal/rewards/{points.pk}/certificate.png").status_code == 404
        # Without a portal session: the sign-in page, never the image.
        anonymous = Client().get(url)
    assert (anonymous.status_code, anonymous["Location"]) == (302, "/portal/login/")


def test_a_charity_that_gives_no_certificates_offers_none_in_the_portal(tenant, api):
    donation = _shop(tenant, api, certificate=False)
    with time_machine.travel(KEPT + timedelta(minutes=1), tick=False):
        tick()
    donation.refresh_from_db()
    assert donation.status == "fulfilled"
    with time_machine.travel(KEPT + timedelta(hours=1), tick=False):
        client = portal_client(api, "alice")
        home = client.get("/portal/").content.decode()
        response = client.get(f"/portal/rewards/{donation.pk}/certificate.png")
    assert '<dd data-testid="charity">¥5</dd></div>' in home
    assert "certificate.png" not in home
    assert response.status_code == 404
