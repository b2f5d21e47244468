import pytest
from django.utils import translation

from programs import services
from programs.models import Program
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import section_data, signed_in

pytestmark = pytest.mark.django_db


_client = signed_in


def test_the_list_shows_each_program_with_its_status(marketer, green):
    response = _client(marketer).get("/app/programs/")
    assert response.status_code == 200
    assert b"Green miles" in response.content and b"Draft" in response.content


def test_every_role_reads_but_only_owners_and_marketers_create(analyst, ops, marketer, owner):
    assert _client(analyst).get("/app/programs/").status_code == 200
    assert _client(ops).get("/app/programs/new/").status_code == 403
    assert (
        _client(analyst)
        .post("/app/programs/new/", {"template": "blank", "name": "X", "slug": "x"})
        .status_code
        == 403
    )
    assert _client(owner).get("/app/programs/new/").status_code == 200


def test_a_marketer_creates_a_draft_from_a_template(marketer, tenant):
    response = _client(marketer).post(
        "/app/programs/new/", {"template": "saas-b2b", "name": "Team referrals", "slug": "teams"}
    )
    assert (
        response.status_code == 302 and response["Location"] == "/app/programs/teams/edit/general/"
    )
    program = Program.objects.for_tenant(tenant).get(slug="teams")
    assert (program.name, program.status) == ("Team referrals", "draft")
    assert program.spec["stages"][0]["rewards"][0]["amount"] == 5000


def test_creating_with_a_used_slug_shows_the_problem(marketer, green):
    response = _client(marketer).post(
        "/app/programs/new/", {"template": "blank", "name": "X", "slug": "green-home"}
    )
    assert response.status_code == 200
    assert b"Already used." in response.content


def test_the_overview_summarises_the_rules_in_plain_words(analyst, green):
    response = _client(analyst).get("/app/programs/green-home/")
    assert response.status_code == 200
    text = response.content.decode()
    assert (
        "Their friend earns ¥20.00 coupon, min. spend ¥99.00, valid 7 days (“¥20 off orders"
        " ≥ ¥99”) when the friend signs up." in text
    )
    assert "At most 10 rewarded referrals per month; beyond that, nothing." in text
    assert 'data-testid="status-active"' not in text  # an analyst sees no buttons


def test_another_tenants_program_is_404(outsider, green):
    client = _client(outsider)
    for url in (
        "/app/programs/green-home/",
        "/app/programs/green-home/simulate/",
        "/app/programs/green-home/versions/",
        "/app/programs/green-home/edit/general/",
    ):
        assert client.get(url).status_code == 404


def test_the_section_tabs_are_in_the_readers_language(marketer, green):
    # The override puts the thread's language back afterwards; the header picks the page's.
    with translation.override("zh-hans"):
        response = _client(marketer).get(
            "/app/programs/green-home/edit/stages/", HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    text = response.content.decode()
    assert ">基本信息</a>" in text and ">阶段与奖励</a>" in text and ">参与条件</a>" in text
    assert ">General</a>" not in text
    assert (
        '<label class="form-label" for="f-stages-0-rewards-0-amount">金额 <span class="text-secondary">(¥)</span>'
        in text
    )


AMOUNT = "stages[0].rewards[0].amount"


def test_editing_the_referee_coupon_makes_a_new_version(marketer, green):
    client = _client(marketer)
    data = section_data(client, "green-home", "stages")
    assert data[AMOUNT] == "20.00"
    data.update({AMOUNT: "25", "stages[0].rewards[0].min_spend": "99"})
    response = client.post("/app/programs/green-home/edit/stages/", data)
    assert response.status_code == 302
    green.refresh_from_db()
    assert green.current_version.number == 2
    assert green.spec["stages"][0]["rewards"][0]["amount"] == 2500
    assert green.spec["stages"][0]["rewards"][0]["min_spend"] == 9900


def test_amounts_typed_with_more_decimals_than_the_currency_has_are_refused(marketer, green):
    client = _client(marketer)
    data = section_data(client, "green-home", "stages", {AMOUNT: "25.005"})
    response = client.post("/app/programs/green-home/edit/stages/", data)
    assert response.status_code == 422
    assert response.context["errors"] == {AMOUNT: ["Enter at most 2 decimal places."]}
    data = section_data(client, "green-home", "caps")
    data.update({"budget": "-1", "referee_discount_cap": "20.001"})
    response = client.post("/app/programs/green-home/edit/caps/", data)
    assert response.status_code == 422
    assert response.context["errors"] == {
        "budget": ["Must be at least 0."],
        "referee_discount_cap": ["Enter at most 2 decimal places."],
    }
    assert 'data-error-for="referee_discount_cap"' in response.content.decode()
    green.refresh_from_db()
    assert green.current_version.number == 1


def test_amounts_and_points_beyond_any_program_are_refused_and_nothing_is_saved(marketer, green):
    """Saved, such an amount would fail the first event that earns it: the database refuses
    the reward row."""
    client = _client(marketer)
    huge = "99999999999999999999"
    data = section_data(client, "green-home", "stages", {AMOUNT: huge})
    data["stages[0].condition.min_amount"] = "1000000000001"
    response = client.post("/app/programs/green-home/edit/stages/", data)
    assert response.status_code == 422
    most = ["Must be at most ¥1,000,000,000,000."]
    assert response.context["errors"] == {AMOUNT: most, "stages[0].condition.min_amount": most}
    html = response.content.decode()
    assert f'value="{huge}.00"' in html  # what was typed stays in the field
    data = section_data(client, "green-home", "caps", {"budget": "1000000000000"})
    assert client.post("/app/programs/green-home/edit/caps/", data).status_code == 302
    green.refresh_from_db()
    assert green.current_version.number == 2
    assert green.spec["stages"][0]["rewards"][0]["amount"] == 2000


def test_the_caps_section_takes_and_shows_amounts_in_the_programs_currency(marketer, green):
    client = _client(marketer)
    data = section_data(client, "green-home", "caps")
    data.update({"budget": "12000.5", "referee_discount_cap": "20"})
    response = client.post("/app/programs/green-home/edit/caps/", data)
    assert response.status_code == 302
    green.refresh_from_db()
    assert (green.spec["budget"], green.spec["referee_discount_cap"]) == (1200050, 2000)
    html = client.get("/app/programs/green-home/edit/caps/").content.decode()
    assert 'name="budget" aria-describedby="f-budget-help" value="12000.50"' in html
    assert (
        'name="referee_discount_cap" aria-describedby="f-referee-discount-cap-help" value="20.00"'
        in html
    )


def test_an_analyst_cannot_save_a_section(analyst, green):
    response = _client(analyst).post("/app/programs/green-home/edit/stages/", {AMOUNT: "25"})
    assert response.status_code == 403


def test_inline_validation_reports_problems_without_saving(marketer, green):
    client = _client(marketer)
    data = section_data(client, "green-home", "caps", {"caps[0].limit": "-1"})
    response = client.post("/app/programs/green-home/edit/caps/validate/", data)
    assert response.status_code == 200
    assert (
        '<span data-testid="field-label">Caps 1 › Limit</span> '
        '<code class="small text-secondary">caps[0].limit</code>: Must be at least 0.'
    ) in response.content.decode()
    response = client.post("/app/programs/green-home/edit/advanced/", {"body": "{not json"})
    assert response.status_code == 422 and b"Not valid JSON" in response.content
    green.refresh_from_db()
    assert green.current_version.number == 1


def test_adding_a_part_redraws_the_form_without_saving(marketer, green):
    client = _client(marketer)
    data = section_data(client, "green-home", "stages")
    response = client.post(
        "/app/programs/green-home/edit/stages/", {**data, "_action": "add:stages[0].rewards"}
    )
    assert response.status_code == 200
    text = response.content.decode()
    count = len(green.spec["stages"][0]["rewards"])
    assert f'name="stages[0].rewards[{count}].key"' in text
    green.refresh_from_db()
    assert green.current_version.number == 1


def test_status_buttons_activate_and_pause(marketer, analyst, green):
    assert (
        _client(analyst).post("/app/programs/green-home/status/", {"status": "active"}).status_code
        == 403
    )
    client = _client(marketer)
    response = client.post("/app/programs/green-home/status/", {"status": "active", "confirm": "1"})
    assert response.status_code == 302
    green.refresh_from_db()
    assert green.status == "active"


def test_the_simulator_shows_what_each_side_earns(analyst, green):
    script = (
        "anna 0 signup\nanna 1 purchase 120\nben 2 signup\nben 3 purchase 150\nben 5 refund 150"
    )
    response = _client(analyst).post(
        "/app/programs/green-home/simulate/",
        {"script": script, "start": "2026-01-05", "assume_eligible": "1", "attributes": "{}"},
    )
    assert response.status_code == 200
    text = response.content.decode()
    # Anna's order passes its window: ¥25 coupon, 1 ticket, 300 points; Ben's is refunded.
    assert 'data-testid="total-referrer">¥25.00 + 300 points' in text
    assert 'data-testid="total-referee">¥40.00' in text  # two ¥20 sign-up coupons


def test_the_cost_estimator_prices_the_expected_volume(analyst, green):
    response = _client(analyst).get(
        "/app/programs/green-home/estimate/?monthly_referrals=100&rate_welcome=100&rate_first_order=40"
    )
    text = response.content.decode()
    # Coupons at 60 % redemption on a ¥120 average order: 100 × 60 % × ¥20 sign-up coupons;
    # 40 × 300 points × ¥0.05 (the ¥25 coupon needs ¥129, more than the average order).
    assert 'data-testid="monthly-cost">¥1,800.00' in text
    assert 'data-testid="cprc">¥45.00' in text


def test_the_version_history_shows_the_diff(marketer, green):
    client = _client(marketer)
    client.post(
        "/app/programs/green-home/edit/stages/",
        section_data(client, "green-home", "stages", {AMOUNT: "25"}),
    )
    text = client.get("/app/programs/green-home/versions/").content.decode()
    row = text.split('data-testid="field-label">')[1].split("</tr>")[0]
    # Named as the builder names the field, the amounts in yuan as they were typed.
    assert row.startswith("Stages 1 › Rewards 1 › Amount</span>")
    assert '<code class="small text-secondary">stages[0].rewards[0].amount</code>' in row
    assert ">¥20.00<" in row and ">¥25.00<" in row
    assert "2500" not in row


def test_the_list_shows_headline_numbers_and_local_start_dates(marketer, tenant):
    from datetime import datetime

    from pipeline.flow import event_process_by_id
    from tracking import services as tracking

    spec = ARCHETYPES["green-home"](year=2026)
    spec["status"] = "active"
    green = services.program_create(tenant=tenant, spec=spec, actor=None)

    code = None
    for external_id in ("alice", "carol"):
        person, _ = tracking.participant_upsert(tenant=tenant, external_id=external_id)
        _, code, _ = tracking.enrollment_create(tenant=tenant, program=green, participant=person)
    at = datetime.fromisoformat("2026-03-02T10:00:00+08:00")
    payload = {
        "event_id": "bob-signup",
        "type": "signup",
        "occurred_at": at.isoformat(),
        "participant": {"external_id": "bob"},
        "referral": {"code": code.code},
    }
    event, _ = tracking.event_ingest(
        tenant=tenant, data={**payload, "occurred_at": at}, payload=payload
    )
    event_process_by_id(event.pk)

    page = _client(marketer).get("/app/programs/").content.decode()
    row = page[page.index('data-testid="program-row"') :]
    cells = [c.split(">", 1)[1].split("<", 1)[0] for c in row.split("</tr>")[0].split("<td")[1:]]
    # Enrolled referrers, referrals, and 1 January 00:00 in Shanghai (31 December in UTC).
    assert cells[3:] == ["2", "1", "2026-01-01"]


def test_the_holdout_is_set_in_its_own_section_with_errors_at_the_field(marketer, green):
    client = _client(marketer)
    page = client.get("/app/programs/green-home/edit/holdout/").content.decode()
    assert 'data-testid="add-holdout"' in page  # absent until added
    assert "the analytics overview compares them with everyone else." in page
    data = section_data(client, "green-home", "holdout")
    data.update({"holdout.__present": "1", "holdout.percent": "60", "holdout.seed": "spring"})
    response = client.post("/app/programs/green-home/edit/holdout/", data)
    assert response.status_code == 422
    assert response.context["errors"] == {"holdout.percent": ["Must be at most 50."]}
    assert 'data-error-for="holdout.percent"' in response.content.decode()
    data["holdout.percent"] = "12.345"
    with translation.override("zh-hans"):
        response = client.post(
            "/app/programs/green-home/edit/holdout/", data, HTTP_ACCEPT_LANGUAGE="zh-hans"
        )
    assert response.status_code == 422
    assert response.context["errors"] == {"holdout.percent": ["最多可输入 2 位小数。"]}
    green.refresh_from_db()
    assert "holdout" not in green.spec

    data["holdout.percent"] = "12.5"
    assert client.post("/app/programs/green-home/edit/holdout/", data).status_code == 302
    green.refresh_from_db()
    assert green.spec["holdout"] == {"percent": 12.5, "seed": "spring"}
    html = client.get("/app/programs/green-home/edit/holdout/").content.decode()
    assert 'name="holdout.percent" aria-describedby="f-holdout-percent-help" value="12.5"' in html
    assert 'Share held out <span class="text-secondary">(%)</span>' in html
