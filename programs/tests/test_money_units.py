"""Money on the builder's pages reads in the currency's major unit; the advanced JSON view
says its numbers are minor units and stops a save whose cash amounts look like yuan."""

import json

import pytest
from django.utils import translation

from programs.simulator import parse_script
from programs.summary import summarize
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import signed_in

pytestmark = pytest.mark.django_db


_client = signed_in


def test_the_simulator_reads_amounts_in_yuan_and_shows_each_reward_as_money(analyst, saas):
    script = "anna 0 signup\nanna 5 qualified_lead expected_users=3"
    response = _client(analyst).post(
        "/app/programs/saas-b2b/simulate/",
        {"script": script, "start": "2026-05-04", "assume_eligible": "1", "attributes": "{}"},
    )
    text = response.content.decode()
    assert 'data-testid="sim-amount">¥50.00</span>' in text
    assert 'data-testid="total-referrer">¥50.00' in text
    assert "CNY 5000" not in text


def test_a_script_amount_is_major_units_of_the_program_currency():
    lines, errors = parse_script("anna 1 purchase 1680.5", "CNY")
    assert errors == [] and lines[0].amount_minor == 168050
    lines, errors = parse_script("anna 1 purchase 1500", "JPY")
    assert lines[0].amount_minor == 1500
    _lines, errors = parse_script("anna 1 purchase 12.345", "CNY")
    assert errors == ["Line 1: Enter at most 2 decimal places."]


def test_the_summary_names_amounts_eligibility_attribution_holds_and_refunds():
    lines = summarize(ARCHETYPES["saas-b2b"](year=2026))
    text = "\n".join(lines)
    assert (
        "Your customer earns ¥50.00 cash (“Qualified lead”) when the friend becomes a "
        "qualified lead within 30 days of signing up." in lines
    )
    assert "pays at least ¥1,680.00 within 60 days" in text
    assert "Who may refer: Paying in good standing, or an active customer" in text
    assert "Who counts as a new friend: A new account not seen in the last 12 months." in lines
    assert "within 90 days before they sign up; the last touch wins" in text
    assert (
        "During the hold of “Retained 90 days”, a refund or an activity "
        "(kind = subscription_cancelled) takes its rewards back." in lines
    )
    assert "A refund after the hold takes nothing back." in lines
    # A reward with a condition of its own says so: the success pack is not for everyone.
    [pack] = [line for line in lines if line.startswith("Their friend earns Success pack")]
    assert pack.endswith(
        ", only if ((referrer.nps ≥ 9 or referrer.case_study is yes) and "
        "first.qualified_lead.expected_users ≥ 10)."
    )


def test_the_summary_reads_in_chinese():
    with translation.override("zh-hans"):
        text = "\n".join(summarize(ARCHETYPES["green-home"](year=2026)))
    assert "¥20.00" in text
    assert "推荐人资格" in text and "退款" in text
    # Kinds and the default option read in the page's language, not as spec keys.
    with translation.override("zh-hans"):
        saas = "\n".join(summarize(ARCHETYPES["saas-b2b"](year=2026)))
    assert "¥50.00 现金" in saas and "¥50.00 cash" not in saas
    assert "（默认：First year 10% off）" in saas and "ten_percent_off" not in saas


def test_the_json_view_says_minor_units_and_lists_what_each_amount_means(marketer, saas):
    text = _client(marketer).get("/app/programs/saas-b2b/edit/advanced/").content.decode()
    assert "minor units" in text
    assert '<code>stages[0].rewards[0].amount</code></td><td class="text-end">5000</td>' in text
    assert "¥50.00" in text


def test_a_cash_amount_under_one_yuan_warns_before_it_is_saved(marketer, saas):
    client = _client(marketer)
    spec = saas.spec
    spec["stages"][0]["rewards"][0]["amount"] = 50  # meant ¥50, typed as yuan
    body = json.dumps(spec)
    response = client.post("/app/programs/saas-b2b/edit/advanced/", {"body": body})
    assert response.status_code == 422
    text = response.content.decode()
    assert "<code>stages[0].rewards[0].amount</code> is 50 minor units, that is only ¥0.50" in text
    saas.refresh_from_db()
    assert saas.current_version.number == 1
    response = client.post(
        "/app/programs/saas-b2b/edit/advanced/", {"body": body, "confirm_minor_units": "1"}
    )
    assert response.status_code == 302
    saas.refresh_from_db()
    assert saas.spec["stages"][0]["rewards"][0]["amount"] == 50
