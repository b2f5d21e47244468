import re
from datetime import timedelta

import time_machine

from fraud.selectors import referrer_facing_status
from rewards.models import LedgerEntry, Reward
from tracking.models import Enrollment, Event, Participant, Referral

from .conftest import T0, portal_client, tick

NOW = T0 + timedelta(days=3, hours=1)


def _text(response) -> str:
    html = response.content.decode()
    main = html.split('<main id="main"', 1)[1]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", main))


def _sections(response) -> dict[str, str]:
    html = response.content.decode()
    out = {}
    for name in ("balances", "referrals", "rewards", "choices"):
        match = re.search(rf'<section class="card" id="{name}".*?</section>', html, re.S)
        out[name] = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(0))) if match else ""
    return out


def test_the_portal_shows_each_referral_reward_and_balance_with_exact_figures(
    api, busy_shop, tenant
):
    _program, code, _alice = busy_shop
    with time_machine.travel(NOW, tick=False):
        response = portal_client(api, "alice").get("/portal/")
    assert response.status_code == 200
    text = _text(response)
    s = _sections(response)
    assert "Your friend gets ¥20 off orders ≥ ¥99 and Free shipping coupon." in text
    assert (
        "You get ¥25 coupon (orders ≥ ¥129) or 250 green miles, 1 lottery ticket and 300 green "
        "miles for each successful referral." in text
    )
    assert f'value="http://127.0.0.1:8000/r/{code}"' in response.content.decode()
    # Lena's order is a success still in its 7-day hold: the ladder counts it once the hold
    # ends (SEMANTICS §10), so three more to the first step for now.
    assert 'data-testid="tier-heading">Your progress this month<' in response.content.decode()
    assert (
        "0 so far: 3 more successful referrals to reach ¥30 coupon (orders ≥ ¥169) and 200 green miles."
        in text
    )
    # Referees are masked; each shows its timeline and what comes next.
    referrals = s["referrals"]
    assert "lena" not in referrals and "bob@" not in referrals
    assert re.search(
        r"l\*\*\*@gmail\.com Converted Clicked — Done: Signed up April 6, 2026 Done: Paid April 6, 2026",
        referrals,
    )
    # Bob returned his order inside the 7-day window: the paid step is undone. The status
    # wording is fraud's referrer-facing one (never "fraud", never its signals).
    bob = Referral.objects.for_tenant(tenant).get(referee__external_id="bob")
    bob_status = referrer_facing_status(bob)
    assert (
        f"b***@example.org {bob_status} Clicked — Done: Signed up April 6, 2026 Next: Paid"
        in referrals
    )
    assert (
        "c***@example.net Signed up Clicked — Done: Signed up April 6, 2026 Next: Paid" in referrals
    )
    rewards = s["rewards"]
    assert (
        "300 green miles Confirmed after the waiting period · Expected on April 13, 2026" in rewards
    )
    assert (
        "1 lottery ticket Confirmed after the waiting period · Expected on April 13, 2026"
        in rewards
    )
    assert (
        "¥25 off on orders of ¥129 or more ¥25 coupon (orders ≥ ¥129) Waiting for your choice"
        " · Choose by April 20, 2026" in rewards
    )
    assert rewards.count("Cancelled (order refunded) · Cancelled on April 9, 2026") == 3
    balances = s["balances"]
    assert "Green miles 0 " in balances
    assert "Points on the way 300 " in balances
    assert "Cash on the way ¥0 " in balances
    assert "Donated to charity ¥0 " in balances
    assert (
        "Pick your reward: ¥25 off on orders of ¥129 or more (choose by April 20, 2026)"
        in s["choices"]
    )
    assert "250 green miles" in s["choices"]
    # The choice says whose referral earned it, masked as in the referrals list.
    assert "For referring l***@gmail.com" in s["choices"]


def test_the_portal_speaks_simplified_chinese_to_a_chinese_customer(api, busy_shop, tenant):
    Participant.objects.for_tenant(tenant).filter(external_id="alice").update(locale="zh-CN")
    with time_machine.travel(NOW, tick=False):
        response = portal_client(api, "alice").get("/portal/")
    html = response.content.decode()
    assert '<html lang="zh-hans">' in html
    s = _sections(response)
    assert "你的奖励" in s["rewards"]
    assert "300 green miles 等待期结束后确认 · 预计到账 2026年4月13日" in s["rewards"]
    assert (
        "减 ¥25（订单满 ¥129 可用） ¥25 coupon (orders ≥ ¥129) 等你选择 · 选择截止 2026年4月20日"
        in (s["rewards"])
    )
    assert s["rewards"].count("已取消（订单已退款） · 取消于 2026年4月9日") == 3
    assert "即将到账的积分 300 " in s["balances"]
    assert "即将到账的现金 ¥0 " in s["balances"]
    assert (
        "已成功 0 位：再成功推荐 3 位即可获得 ¥30 coupon (orders ≥ ¥169)和200 green miles。"
        in _text(response)
    )
    assert "April" not in s["rewards"] + s["referrals"]
    assert re.search(r"l\*\*\*@gmail\.com \S+ .*2026年4月6日", s["referrals"])
    assert re.search(
        r"c\*\*\*@example\.net \S+ .*已完成： 已注册 2026年4月6日 下一步： 已付款", s["referrals"]
    )


def test_the_tenants_default_language_applies_when_the_customer_has_none(api, busy_shop, tenant):
    tenant.default_locale = "zh-hans"
    tenant.save()
    with time_machine.travel(NOW, tick=False):
        response = portal_client(api, "alice").get("/portal/")
    assert '<html lang="zh-hans">' in response.content.decode()


def test_released_rewards_show_as_received_with_coupon_codes_and_the_points_balance(
    api, busy_shop, tenant
):
    # Past the hold and the choice deadline: the default coupon and the points are paid out.
    for days in (7, 15):
        with time_machine.travel(T0 + timedelta(days=days, hours=2), tick=False):
            tick()
    with time_machine.travel(T0 + timedelta(days=15, hours=3), tick=False):
        response = portal_client(api, "alice").get("/portal/")
    s = _sections(response)
    coupon = Reward.objects.for_tenant(tenant).get(
        participant__external_id="alice", reason="stage:referrer_choice", status="fulfilled"
    )
    assert coupon.details["code"]
    assert f"¥25 off on orders of ¥129 or more · code {coupon.details['code']}" in s["balances"]
    assert "Green miles 300 " in s["balances"]
    assert "300 green miles Received · Received on April 13, 2026" in s["rewards"]
    assert not s["choices"]


def test_the_portal_is_one_page_in_a_fixed_number_of_queries(
    api, busy_shop, django_assert_num_queries
):
    # Session, participant, enrollments, codes, tier count, the referral counts, the lottery's
    # draws and the participant's tickets, referrals, their stages, rewards, the points sum,
    # the charity total, redemptions, disputes: the same fifteen whatever the number of rows (three referrals
    # and twelve rewards here; referrals that came by click add one for clicks). The programs'
    # holdouts are read from their specs, which come with the enrollments.
    with time_machine.travel(NOW, tick=False):
        client = portal_client(api, "alice")
        with django_assert_num_queries(15):
            assert client.get("/portal/").status_code == 200


def test_a_share_tap_is_recorded_as_a_share_event_for_the_funnel(api, shop, tenant):
    _program, _code, alice = shop
    enrollment = Enrollment.objects.for_tenant(alice.tenant_id).get(participant=alice)
    client = portal_client(api, "alice")
    assert (
        client.post(
            "/portal/share/", {"channel": "whatsapp", "enrollment": enrollment.pk}
        ).status_code
        == 204
    )
    assert (
        client.post("/portal/share/", {"channel": "fax", "enrollment": enrollment.pk}).status_code
        == 422
    )
    event = Event.objects.for_tenant(tenant).get(type="share")
    assert event.participant_id == alice.pk or event.external_id == "alice"
    assert event.payload["properties"] == {"channel": "whatsapp", "program": "green-home"}


def test_share_buttons_carry_the_programs_message_and_the_channel_source(api, shop):
    _program, code, _alice = shop
    html = portal_client(api, "alice").get("/portal/").content.decode()
    link = f"http%3A%2F%2F127.0.0.1%3A8000%2Fr%2F{code}%3Fs%3Dwhatsapp"
    assert (
        f'href="https://wa.me/?text=%C2%A520%20off%20your%20first%20green-home%20order%20with%20my%20link.%20{link}"'
        in html
    )
    assert (
        f"https://t.me/share/url?url=http%3A%2F%2F127.0.0.1%3A8000%2Fr%2F{code}%3Fs%3Dtelegram"
        in html
    )
    assert "mailto:?subject=Green%20miles" in html
    assert (
        f"https://www.linkedin.com/sharing/share-offsite/?url=http%3A%2F%2F127.0.0.1%3A8000%2Fr%2F{code}%3Fs%3Dlinkedin"
        in html
    )
    assert f'src="/qr/{code}.png"' in html
    assert f'href="/qr/{code}/poster.png?lang=en" download="poster-{code}.png"' in html
    # Nothing on the page is loaded from another host.
    assert not re.search(
        r'(src|href)="https?://(?!127\.0\.0\.1)[^"]*"[^>]*(rel="stylesheet"|>)\s*</script', html
    )
    assert not re.search(r'<(img|script|link)[^>]+(src|href)="https?://', html)


def test_another_tenants_customer_never_sees_this_tenants_rows(
    api, other_api, busy_shop, other_tenant
):
    other_api.post(
        "/api/v1/participants", {"external_id": "alice", "email": "a2@example.test"}, format="json"
    )
    client = portal_client(other_api, "alice")
    text = _text(client.get("/portal/"))
    assert "Green miles" not in text
    assert "@gmail.com" not in text
    reward = (
        Reward.objects.for_tenant(busy_shop[2].tenant)
        .filter(participant__external_id="alice")
        .first()
    )
    assert client.get(f"/portal/rewards/{reward.pk}/choose/", {"option": 1}).status_code == 404


def test_the_personal_note_is_saved_for_the_invite_page(api, shop):
    _program, _code, alice = shop
    enrollment = Enrollment.objects.for_tenant(alice.tenant_id).get(participant=alice)
    client = portal_client(api, "alice")
    response = client.post(
        "/portal/message/", {"enrollment": enrollment.pk, "message": "  Come  join me!  "}
    )
    assert response.status_code == 302
    enrollment.refresh_from_db()
    assert enrollment.personal_message == "Come join me!"
    client.post("/portal/message/", {"enrollment": enrollment.pk, "message": "x" * 281})
    enrollment.refresh_from_db()
    assert enrollment.personal_message == "Come join me!"


def test_a_referee_sees_only_their_own_rewards_and_no_referrals(api, busy_shop, tenant):
    for days in (7, 15):
        with time_machine.travel(T0 + timedelta(days=days, hours=2), tick=False):
            tick()
    assert (
        LedgerEntry.objects.for_tenant(tenant).filter(account__startswith="participant:").count()
        >= 2
    )
    with time_machine.travel(T0 + timedelta(days=15, hours=3), tick=False):
        response = portal_client(api, "lena").get("/portal/")
    text = _text(response)
    s = _sections(response)
    assert "You are not taking part in a referral program yet." in text
    assert "No referrals yet." in s["referrals"]
    # Lena's own welcome coupon, not Alice's rewards.
    assert "¥20 off orders ≥ ¥99 Received" in s["rewards"]
    assert "green miles" not in s["rewards"]


def test_the_ladder_counts_a_success_once_its_hold_ends_and_not_while_it_is_reviewed(
    api, busy_shop, tenant
):
    after_hold = T0 + timedelta(days=8)
    with time_machine.travel(after_hold, tick=False):
        tick()
        text = _text(portal_client(api, "alice").get("/portal/"))
    assert "1 so far: 2 more successful referrals to reach" in text
    Referral.objects.for_tenant(tenant).filter(referee__external_id="lena").update(status="review")
    with time_machine.travel(after_hold, tick=False):
        text = _text(portal_client(api, "alice").get("/portal/"))
    assert "0 so far: 3 more successful referrals to reach" in text
