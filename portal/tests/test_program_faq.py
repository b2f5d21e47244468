"""The program's own FAQ and terms on the portal and the invite page, in the reader's language
(the participant's, else the browser's, else the tenant's default), else the other
language's; the referrer's questions on the portal, the friend's on the invite page, and
everyone's on both; the product's generic questions where a program has none for the
referrer; always as text."""

from __future__ import annotations

import copy

from django.test import Client

from programs.services import program_update
from programs.tests.test_faq_and_terms import AUDIENCES

from .conftest import portal_client

# The demo's green-home FAQ: a question for referrers, one for friends, one for everyone.
EN_QUESTION = "What does my friend get?"
ZH_QUESTION = "好友能得到什么？"
EN_FRIEND = "What do I get?"
ZH_FRIEND = "我能得到什么？"
EN_EVERYONE = "Who counts as a new customer?"
ZH_EVERYONE = "谁算新顾客？"
EN_TERMS = "Who can refer: members with at least one valid order"
ZH_TERMS = "谁可以推荐：至少有一笔有效订单"
GENERIC = "When do I get my reward?"


def _respec(program, **changes):
    spec = copy.deepcopy(program.spec)
    for key, value in changes.items():
        if value is None:
            spec.pop(key, None)
        else:
            spec[key] = value
    return program_update(program=program, spec=spec, actor=None)


def _invite(code: str, language: str = "en") -> str:
    return Client().get(f"/i/{code}", HTTP_ACCEPT_LANGUAGE=language).content.decode()


def test_the_portal_shows_the_programs_faq_and_terms_in_the_participants_language(
    api, shop, tenant
):
    _program, _code, alice = shop
    html = portal_client(api, "alice").get("/portal/").content.decode()
    assert f'<details data-testid="faq"><summary>{EN_QUESTION}</summary>' in html
    assert f"<summary>{EN_EVERYONE}</summary>" in html
    assert f"<summary>{EN_FRIEND}</summary>" not in html
    assert EN_TERMS in html and ZH_QUESTION not in html
    # Paragraphs of the terms are kept.
    assert html.count("<p>", html.index('data-testid="terms"')) >= 5
    assert GENERIC not in html

    alice.locale = "zh-hans"
    alice.save(update_fields=["locale"])
    html = portal_client(api, "alice").get("/portal/").content.decode()
    assert f"<summary>{ZH_QUESTION}</summary>" in html
    assert f"<summary>{ZH_EVERYONE}</summary>" in html
    assert f"<summary>{ZH_FRIEND}</summary>" not in html
    assert ZH_TERMS in html and EN_QUESTION not in html


def test_the_portal_falls_back_to_the_other_languages_faq_and_terms(api, shop):
    program, _code, alice = shop
    _respec(program, faq={"en": program.spec["faq"]["en"]}, terms={"en": "Only in English."})
    alice.locale = "zh-hans"
    alice.save(update_fields=["locale"])
    html = portal_client(api, "alice").get("/portal/").content.decode()
    assert '<html lang="zh-hans">' in html
    assert f"<summary>{EN_QUESTION}</summary>" in html
    assert "<p>Only in English.</p>" in html


def test_a_program_without_an_faq_keeps_the_generic_questions_on_the_portal(api, shop):
    program, _code, _alice = shop
    _respec(program, faq=None, terms=None)
    html = portal_client(api, "alice").get("/portal/").content.decode()
    assert 'data-testid="generic-faq"' in html and GENERIC in html
    assert EN_QUESTION not in html
    # Without terms of its own, the offer's words stand for them, as before.
    assert "<p>Both coupons are valid for 7 days.</p>" in html


def test_the_invite_page_shows_the_faq_and_terms_in_the_browsers_language(shop):
    code = shop[1]
    html = _invite(code, "en-GB,en;q=0.9")
    assert f"<summary>{EN_FRIEND}</summary>" in html and EN_TERMS in html
    assert f"<summary>{EN_EVERYONE}</summary>" in html
    assert 'href="#terms"' in html and 'id="terms"' in html
    # The referrer's questions are not the friend's.
    assert EN_QUESTION not in html and "What do I get when a friend orders?" not in html
    assert ZH_FRIEND not in html and GENERIC not in html

    html = _invite(code, "zh-CN,zh;q=0.9")
    assert f"<summary>{ZH_FRIEND}</summary>" in html and ZH_TERMS in html
    assert f"<summary>{ZH_EVERYONE}</summary>" in html
    assert "优惠条款" in html and ZH_QUESTION not in html and EN_FRIEND not in html


def test_the_invite_page_falls_back_to_the_tenants_language_then_the_other(shop, tenant):
    program, code, _alice = shop
    tenant.default_locale = "zh-hans"
    tenant.save()
    # A browser language we do not have: the tenant's default.
    assert f"<summary>{ZH_FRIEND}</summary>" in _invite(code, "fr-FR")
    _respec(program, faq={"zh-hans": program.spec["faq"]["zh-hans"]}, terms=None)
    html = _invite(code, "en")
    assert '<html lang="en">' in html
    assert f"<summary>{ZH_FRIEND}</summary>" in html
    assert 'id="terms"' not in html and 'href="#terms"' not in html


def test_an_invite_page_without_an_faq_shows_no_questions(shop):
    program, code, _alice = shop
    _respec(program, faq=None, terms=None)
    html = _invite(code)
    assert 'data-testid="program-faq"' not in html and GENERIC not in html


def test_each_page_shows_only_the_questions_for_its_reader(api, shop):
    program, code, _alice = shop
    _respec(program, faq={"en": AUDIENCES["en"]})
    portal = portal_client(api, "alice").get("/portal/").content.decode()
    invite = _invite(code)

    def shown(html: str) -> list[str]:
        return [
            q
            for q in ("Referrer?", "Friend?", "Everyone?", "Unmarked?")
            if f"<summary>{q}</summary>" in html
        ]

    assert shown(portal) == ["Referrer?", "Everyone?", "Unmarked?"]
    assert shown(invite) == ["Friend?", "Everyone?", "Unmarked?"]
    assert GENERIC not in portal


def test_a_page_without_a_question_for_its_reader_shows_no_program_faq(api, shop):
    program, code, _alice = shop
    _respec(program, faq={"en": [{"question": "Referrer?", "answer": "R", "for": "referrer"}]})
    html = _invite(code)
    assert 'data-testid="program-faq"' not in html and "Referrer?" not in html
    assert 'id="terms"' in html  # the terms stay

    _respec(program, faq={"en": [{"question": "Friend?", "answer": "F", "for": "friend"}]})
    html = portal_client(api, "alice").get("/portal/").content.decode()
    # The portal keeps the product's questions, as for a program without an FAQ.
    assert 'data-testid="generic-faq"' in html and GENERIC in html
    assert "Friend?" not in html and 'data-testid="faq"' not in html
    assert EN_TERMS in html


def test_the_faq_and_terms_are_shown_as_text_never_as_html(api, shop):
    program, code, _alice = shop
    _respec(
        program,
        faq={"en": [{"question": "<script>alert(1)</script>", "answer": "<b>Bold</b>\n\nNext"}]},
        terms={"en": '<img src=x onerror="alert(2)">\n\nSecond paragraph'},
    )
    for html in (_invite(code), portal_client(api, "alice").get("/portal/").content.decode()):
        assert "<script>alert(1)" not in html and "<img src=x" not in html
        assert "<summary>&lt;script&gt;alert(1)&lt;/script&gt;</summary>" in html
        assert "<p>&lt;b&gt;Bold&lt;/b&gt;</p>\n\n<p>Next</p>" in html
        assert "<p>&lt;img src=x onerror=&quot;alert(2)&quot;&gt;</p>" in html
        assert "<p>Second paragraph</p>" in html
