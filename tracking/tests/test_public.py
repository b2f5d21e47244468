"""The redirect, the invite page, QR codes and posters."""

from datetime import timedelta

import pytest
import zxingcpp
from django.core.cache import cache
from PIL import Image, ImageChops

from programs.models import Program
from referral_platform.core import clock
from tracking import qr, services
from tracking.models import Click, Event, Participant, Referral

PHONE_UA = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148"
)


@pytest.fixture(autouse=True)
def _clear_cache():
    cache.clear()
    services._local.clear()


def test_the_redirect_records_one_click_sets_the_cookie_and_goes_to_the_invite_page(
    client, tenant, alice_code, django_assert_num_queries
):
    services.code_resolve(alice_code.code)  # warm: the hot path is one cached lookup
    with django_assert_num_queries(1):  # the click INSERT, nothing else
        response = client.get(
            f"/r/{alice_code.code}?s=wechat&utm_source=wx", HTTP_USER_AGENT=PHONE_UA
        )
    assert response.status_code == 302
    assert response["Location"] == f"/i/{alice_code.code}"
    click = Click.objects.for_tenant(tenant).get()
    assert (click.source, click.ua_class, click.code, click.utm, click.is_bot) == (
        "wechat",
        "mobile",
        alice_code.code,
        {"utm_source": "wx"},
        False,
    )
    assert response.cookies["rp_click"].value == click.pk
    assert response.cookies["rp_click"]["max-age"] == 30 * 86400
    assert response.cookies["rp_click"]["httponly"]


def test_a_cold_redirect_costs_one_lookup_more(client, alice_code, django_assert_num_queries):
    with django_assert_num_queries(2):
        assert client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA).status_code == 302


def test_preview_bots_and_head_requests_are_answered_but_not_counted(client, tenant, alice_code):
    for ua in (
        "WhatsApp/2.23.20.0",
        "TelegramBot (like TwitterBot)",
        "Slackbot-LinkExpanding 1.0",
        "facebookexternalhit/1.1",
        "Twitterbot/1.0",
    ):
        response = client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=ua)
        assert response.status_code == 302 and "rp_click" not in response.cookies
    assert client.head(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA).status_code == 302
    assert Click.objects.for_tenant(tenant).count() == 0
    client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA)
    assert Click.objects.for_tenant(tenant).count() == 1


def test_the_redirect_never_goes_where_the_request_says(client, tenant, program, alice_code):
    Program.objects.for_tenant(tenant).filter(pk=program.pk).update(
        landing_url="https://shop.example.com/join?x=1"
    )
    response = client.get(
        f"/r/{alice_code.code}?next=https://evil.test/&url=//evil.test&ref=EVIL&click_id=X",
        HTTP_USER_AGENT=PHONE_UA,
        HTTP_HOST="testserver",
        HTTP_REFERER="https://evil.test/",
    )
    click = Click.objects.for_tenant(tenant).get()
    assert (
        response["Location"]
        == f"https://shop.example.com/join?x=1&ref={alice_code.code}&click_id={click.pk}"
    )
    assert client.get("/r/https:%2F%2Fevil.test").status_code == 404


def test_unknown_code_is_a_friendly_404_and_an_ended_program_410(
    client, tenant, program, alice_code
):
    unknown = client.get("/r/NOPE777")
    assert unknown.status_code == 404 and b"could not find this invitation" in unknown.content
    Program.objects.for_tenant(tenant).filter(pk=program.pk).update(
        ends_at=clock.now() - timedelta(days=1)
    )
    services.code_cache_forget(alice_code.code)
    ended = client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA)
    assert ended.status_code == 410 and b"This offer has ended" in ended.content


def test_a_rotated_code_goes_to_the_standard_offer_unattributed_and_flags_the_click(
    client, tenant, alice_code
):
    fresh = services.code_rotate(code=alice_code)
    response = client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 302 and "rp_click" not in response.cookies
    click = Click.objects.for_tenant(tenant).get()
    assert click.leaked is True
    page = client.get(response["Location"])
    assert b"Alice" not in page.content and b"You are invited" in page.content
    assert fresh.code != alice_code.code


def test_the_client_ip_is_hashed_and_forwarded_headers_are_ignored_by_default(
    client, tenant, alice_code
):
    from tracking.identity import ip_hashes

    client.get(
        f"/r/{alice_code.code}",
        HTTP_USER_AGENT=PHONE_UA,
        HTTP_X_FORWARDED_FOR="198.51.100.7",
        REMOTE_ADDR="203.0.113.5",
    )
    click = Click.objects.for_tenant(tenant).get()
    assert (click.ip_hash, click.ip24_hash) == ip_hashes("203.0.113.5")


def test_a_signed_event_qr_counts_as_event_until_it_expires(client, tenant, alice_code):
    now = int(clock.now().timestamp())
    good = qr.event_qr_url(alice_code.code, "fair-2026", now + 3600).split("/r/", 1)[1]
    forged = good.replace("fair-2026", "other")
    expired = qr.event_qr_url(alice_code.code, "fair-2026", now - 1).split("/r/", 1)[1]
    for path in (good, forged, expired):
        client.get(f"/r/{path}", HTTP_USER_AGENT=PHONE_UA)
    sources = sorted(Click.objects.for_tenant(tenant).values_list("source", flat=True))
    assert sources == ["event", "link", "link"]


def test_the_invite_page_shows_the_referrer_and_offer_in_the_visitors_language(client, alice_code):
    english = client.get(f"/i/{alice_code.code}", HTTP_ACCEPT_LANGUAGE="en")
    assert english.status_code == 200
    assert (
        b"Alice invites you" in english.content
        and "¥20 off your first order".encode() in english.content
    )
    assert alice_code.code.encode() in english.content
    chinese = client.get(f"/i/{alice_code.code}", HTTP_ACCEPT_LANGUAGE="zh-CN,zh;q=0.9")
    assert chinese.content.decode().count('<html lang="zh-hans">') == 1


def test_the_invite_form_records_a_lead_signup_and_its_referral(
    client, tenant, alice_code, django_capture_on_commit_callbacks
):
    client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            f"/i/{alice_code.code}", {"name": "Dan", "phone": "13900139000", "consent": "on"}
        )
    assert response.status_code == 200 and b"Thank you" in response.content
    lead = Participant.objects.for_tenant(tenant).get(is_lead=True)
    assert lead.external_id.startswith("lead:") and lead.phone == "+8613900139000"
    referral = Referral.objects.for_tenant(tenant).get()
    click = Click.objects.for_tenant(tenant).get()
    assert (
        referral.referee_id,
        referral.referrer.external_id,
        referral.source,
        referral.click_id,
    ) == (lead.pk, "u-alice", "link", click.pk)


def test_the_invite_form_without_consent_is_refused_and_stores_nothing(client, tenant, alice_code):
    response = client.post(f"/i/{alice_code.code}", {"name": "Dan", "phone": "13900139000"})
    assert response.status_code == 422
    assert Event.objects.for_tenant(tenant).count() == 0


def test_a_qr_code_decodes_to_the_exact_referral_url(client, alice_code, settings):
    response = client.get(f"/qr/{alice_code.code}.png")
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    import io

    results = zxingcpp.read_barcodes(Image.open(io.BytesIO(response.content)))
    assert [r.text for r in results] == [f"{settings.PUBLIC_BASE_URL}/r/{alice_code.code}?s=qr"]
    svg = client.get(f"/qr/{alice_code.code}.svg")
    assert svg.status_code == 200 and svg.content.startswith(b"<svg") and b"qr-path" in svg.content


def test_a_poster_decodes_and_renders_a_chinese_name(
    client, tenant, program, alice, alice_code, settings
):
    import io

    services.participant_upsert(tenant=tenant, external_id="u-alice", name="张伟")
    services.code_cache_forget(alice_code.code)
    response = client.get(f"/qr/{alice_code.code}/poster.png", HTTP_ACCEPT_LANGUAGE="zh-CN")
    assert response.status_code == 200
    image = Image.open(io.BytesIO(response.content))
    assert image.size == (1080, 1350)
    assert [r.text for r in zxingcpp.read_barcodes(image)] == [
        f"{settings.PUBLIC_BASE_URL}/r/{alice_code.code}?s=qr"
    ]
    # Glyphs, not tofu: the name differs from missing-glyph boxes of the same length.
    name = qr.text_png("张伟")
    tofu = qr.text_png("\uffff\uffff")
    assert ImageChops.difference(name, tofu).getbbox() is not None
    assert qr.text_png("张伟").tobytes() != qr.text_png("李娜").tobytes()


def test_the_poster_changes_when_the_program_copy_changes(client, tenant, program, alice_code):
    from programs.services import program_update

    first = client.get(f"/qr/{alice_code.code}/poster.png").content
    spec = dict(program.spec)
    spec["offer"] = {"headline": "¥30 off now", "body": "New copy."}
    program_update(program=program, spec=spec, actor=None)
    services.code_cache_forget(alice_code.code)
    assert client.get(f"/qr/{alice_code.code}/poster.png").content != first


def _redis_up() -> bool:
    import redis

    try:
        return redis.Redis.from_url("redis://127.0.0.1:6379/7", socket_timeout=0.3).ping()
    except Exception:  # noqa: BLE001
        return False


@pytest.mark.skipif(not _redis_up(), reason="needs Redis on 127.0.0.1:6379")
def test_with_the_click_buffer_the_redirect_makes_no_database_query_and_the_flush_writes_in_bulk(
    client, tenant, alice_code, settings, django_assert_num_queries
):
    import redis

    from tracking import clickbuffer

    settings.TRACKING_CLICK_BUFFER_URL = "redis://127.0.0.1:6379/7"
    redis.Redis.from_url(settings.TRACKING_CLICK_BUFFER_URL).delete(clickbuffer.KEY)
    services.code_resolve(alice_code.code)
    with django_assert_num_queries(0):
        for _ in range(3):
            assert client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA).status_code == 302
    assert Click.objects.for_tenant(tenant).count() == 0
    assert clickbuffer.flush() == 3
    assert Click.objects.for_tenant(tenant).count() == 3
    assert clickbuffer.flush() == 0


def test_when_the_click_buffer_is_unreachable_the_clicks_are_written_directly(
    client, tenant, alice_code, settings
):
    from tracking import clickbuffer

    settings.TRACKING_CLICK_BUFFER_URL = "redis://127.0.0.1:1/7"
    for _ in range(2):
        assert client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA).status_code == 302
    assert clickbuffer.ship() == 2
    assert Click.objects.for_tenant(tenant).count() == 2


def test_two_chinese_names_give_two_different_posters_so_glyphs_not_boxes_are_drawn():
    def render(name):
        return qr.poster_png(
            code="K7MPQ4X",
            referrer_name=name,
            headline="首单立减20元",
            body="7天内有效",
            invite_line=f"{name}邀请你",
            scan_line="扫码领取",
            brand_colour="#0a7d4f",
            tenant_name="绿色家居",
        )

    tofu = qr.poster_png(
        code="K7MPQ4X",
        referrer_name="",
        headline="\uffff" * 6,
        body="\uffff" * 4,
        invite_line="\uffff" * 5,
        scan_line="\uffff" * 4,
        brand_colour="#0a7d4f",
        tenant_name="\uffff" * 4,
    )
    assert render("张伟") != render("李娜")
    assert render("张伟") != tofu


def test_an_opted_out_referrers_link_still_works_but_records_nothing(
    client, tenant, alice, alice_code
):
    services.participant_opt_out(participant=alice)
    response = client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 302 and "rp_click" not in response.cookies
    assert Click.objects.for_tenant(tenant).count() == 0


def test_an_event_qr_is_signed_expires_and_decodes_to_its_link(
    api, other_api, client, tenant, alice_code, settings
):
    import io

    expires = (clock.now() + timedelta(hours=2)).replace(microsecond=0)
    response = api.post(
        "/api/v1/event-qr",
        {"code": alice_code.code, "event": "expo-2026", "expires_at": expires.isoformat()},
        format="json",
    )
    assert response.status_code == 201
    data = response.json()
    assert data["url"] == qr.event_qr_url(alice_code.code, "expo-2026", int(expires.timestamp()))
    image = client.get(data["qr_png_url"].removeprefix(settings.PUBLIC_BASE_URL))
    assert image.status_code == 200
    assert [r.text for r in zxingcpp.read_barcodes(Image.open(io.BytesIO(image.content)))] == [
        data["url"]
    ]
    forged = data["qr_png_url"].removeprefix(settings.PUBLIC_BASE_URL).replace("expo-2026", "other")
    assert client.get(forged).status_code == 404
    assert (
        other_api.post(
            "/api/v1/event-qr",
            {"code": alice_code.code, "event": "x", "expires_at": expires.isoformat()},
            format="json",
        ).status_code
        == 404
    )
    past = api.post(
        "/api/v1/event-qr",
        {"code": alice_code.code, "event": "x", "expires_at": "2020-01-01T00:00:00Z"},
        format="json",
    )
    assert past.status_code == 422 and "expires_at" in past.json()["error"]["fields"]


@pytest.mark.parametrize("stored", ["javascript:alert(1)", "data:text/html,x", "//evil.test/"])
def test_a_stored_landing_url_that_is_not_http_is_never_followed(
    client, tenant, program, alice_code, stored
):
    # Saved before the spec required http(s): the invite page stands in for it.
    Program.objects.for_tenant(tenant).filter(pk=program.pk).update(landing_url=stored)
    response = client.get(f"/r/{alice_code.code}", HTTP_USER_AGENT=PHONE_UA)
    assert response.status_code == 302
    assert response["Location"] == f"/i/{alice_code.code}"
