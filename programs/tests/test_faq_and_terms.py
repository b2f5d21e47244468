"""The program's FAQ and terms per language: checked at their own paths (the API's 422 names
each), kept whole by export and import, read in the reader's language (else the other's,
whole) and for the reader (referrer, friend, or everyone), and edited in the builder's copy
section with rows added and removed in place, each with whom it is shown to."""

import json

import pytest
from django.core.management import call_command
from django.http import QueryDict

from programs import selectors, services, specforms
from programs.copy import copy_in, faq_for, faq_in
from programs.spec import validate_spec
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import section_data, signed_in
from programs.tests.test_copy_languages import ctx, posted

FAQ = {
    "en": [
        {"question": "What does my friend get?", "answer": "¥20 off."},
        {"question": "When?", "answer": "After 7 days.\n\nNo returns."},
    ],
    "zh-hans": [{"question": "好友能得到什么？", "answer": "立减 ¥20。"}],
}
TERMS = {"en": "Who can refer.\n\nLimits.", "zh-hans": "谁可以推荐。"}


def green(**changes) -> dict:
    """Plan B without its own FAQ and terms, with `changes`."""
    spec = ARCHETYPES["green-home"](2026)
    del spec["faq"], spec["terms"]
    spec.update(changes)
    return spec


@pytest.fixture
def plain(tenant):
    """A draft green-home program without an FAQ or terms."""
    return services.program_create(tenant=tenant, spec=green(status="draft"), actor=None)


def problems(spec) -> list[tuple[str, str]]:
    return [(p.path, p.message) for p in validate_spec(spec)]


# ------------------------------------------------------------------ the spec


def test_an_faq_and_terms_per_language_are_valid():
    assert problems(green(faq=FAQ, terms=TERMS)) == []
    assert problems(green(faq={"zh-hans": FAQ["zh-hans"]}, terms={"en": "Only English"})) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"faq": {"fr": FAQ["en"]}}, [("faq", "Pick one of: en, zh-hans.")]),
        ({"faq": FAQ["en"]}, [("faq", "Expected one per language code (en, zh-hans).")]),
        ({"faq": {"en": "What?"}}, [("faq.en", "Expected a list.")]),
        ({"faq": {"en": [{"question": "Q"}]}}, [("faq.en[0].answer", "This field is required.")]),
        (
            {"faq": {"en": [{"question": "", "answer": "A", "link": "x"}]}},
            [
                ("faq.en[0].link", "Unknown field."),
                ("faq.en[0].question", "This field is required."),
            ],
        ),
        (
            {"faq": {"zh-hans": [{"question": "Q" * 301, "answer": "A" * 2001}]}},
            [
                ("faq.zh-hans[0].answer", "At most 2000 characters."),
                ("faq.zh-hans[0].question", "At most 300 characters."),
            ],
        ),
        ({"faq": {"en": [{"question": "Q", "answer": "A"}] * 21}}, [("faq.en", "At most 20 entries.")]),
        ({"faq": {"en": [{"question": "  ", "answer": "A"}]}}, [("faq.en[0].question", "This field is required.")]),
        (
            {"faq": {"en": [{"question": "Q", "answer": "A", "for": "friends"}]}},
            [("faq.en[0].for", "Pick one of: everyone, referrer, friend.")],
        ),
        ({"faq": {"zh-hans": [{"question": "Q", "answer": "A", "for": None}]}}, [("faq.zh-hans[0].for", "Pick one of: everyone, referrer, friend.")]),
        ({"terms": "One text"}, [("terms", "Expected one per language code (en, zh-hans).")]),
        ({"terms": {"en": "x" * 10001}}, [("terms.en", "At most 10000 characters.")]),
        ({"terms": {"en": 5}}, [("terms.en", "Expected text.")]),
        ({"terms": {"zh-hans": "\n \n"}}, [("terms.zh-hans", "This field is required.")]),
    ],
)  # fmt: skip
def test_a_wrong_faq_or_terms_is_reported_at_its_field(changes, expected):
    assert problems(green(**changes)) == expected


@pytest.mark.django_db
def test_the_api_refuses_a_bad_faq_with_422_naming_each_field(api, tenant):
    spec = green(faq={"en": [{"question": "", "answer": "A" * 2001}]}, terms={"xx": "?"})
    response = api.post("/api/v1/programs", spec, format="json")
    assert response.status_code == 422
    assert response.json()["error"]["fields"] == {
        "faq.en[0].answer": ["At most 2000 characters."],
        "faq.en[0].question": ["This field is required."],
        "terms": ["Pick one of: en, zh-hans."],
    }
    response = api.post("/api/v1/programs", green(faq=FAQ, terms=TERMS), format="json")
    assert response.status_code == 201
    assert (response.json()["faq"], response.json()["terms"]) == (FAQ, TERMS)


@pytest.mark.django_db
def test_export_then_import_keeps_the_faq_and_terms(tenant, other_tenant, tmp_path):
    services.program_create(tenant=tenant, spec=green(faq=FAQ, terms=TERMS), actor=None)
    path = tmp_path / "program.json"
    call_command("export_program", "acme", "green-home", output=str(path))
    assert json.loads(path.read_text())["faq"] == FAQ
    call_command("import_program", "globex", str(path))
    copied = selectors.program_get(other_tenant, "green-home")
    assert (copied.spec["faq"], copied.spec["terms"]) == (FAQ, TERMS)


def test_the_three_plans_carry_an_faq_and_terms_in_both_languages():
    for build in ARCHETYPES.values():
        spec = build(2026)
        assert problems(spec) == []
        assert set(spec["faq"]) == set(spec["terms"]) == {"en", "zh-hans"}
        assert len(spec["faq"]["en"]) == len(spec["faq"]["zh-hans"]) >= 3


def test_the_three_plans_speak_to_the_referrer_and_to_the_friend_alike_in_both_languages():
    for build in ARCHETYPES.values():
        faq = build(2026)["faq"]
        audiences = [entry.get("for", "everyone") for entry in faq["en"]]
        assert audiences == [entry.get("for", "everyone") for entry in faq["zh-hans"]]
        assert audiences.count("friend") >= 2 and audiences.count("referrer") >= 2
        # Everyone's questions are written without `for`, as the builder saves them.
        assert "everyone" not in [entry.get("for") for entry in faq["en"] + faq["zh-hans"]]


def test_an_audience_is_optional_and_an_entry_without_one_is_everyones():
    spec = green(faq={"en": [{"question": "Q", "answer": "A"}]})
    assert problems(spec) == []
    for audience in ("everyone", "referrer", "friend"):
        spec["faq"]["en"][0]["for"] = audience
        assert problems(spec) == []


# ------------------------------------------------------------------ reading


def test_the_faq_and_terms_read_in_the_language_else_the_others_whole():
    spec = green(faq=FAQ, terms=TERMS)
    assert copy_in(spec, "zh-hans")["faq"] == FAQ["zh-hans"]
    assert copy_in(spec, "en")["terms"] == TERMS["en"]
    only_english = green(faq={"en": FAQ["en"], "zh-hans": []}, terms={"en": "Limits."})
    assert copy_in(only_english, "zh-hans")["faq"] == FAQ["en"]
    assert copy_in(only_english, "zh-hans")["terms"] == "Limits."
    assert faq_in({"zh-hans": FAQ["zh-hans"]}, "en") == FAQ["zh-hans"]
    assert faq_in(None, "en") == faq_in({}, "en") == []
    # A program without them has none to read.
    assert "faq" not in copy_in(green(), "en") and "terms" not in copy_in(green(), "en")


AUDIENCES = {
    "en": [
        {"question": "Referrer?", "answer": "R", "for": "referrer"},
        {"question": "Friend?", "answer": "F", "for": "friend"},
        {"question": "Everyone?", "answer": "E", "for": "everyone"},
        {"question": "Unmarked?", "answer": "U"},
    ],
    "zh-hans": [{"question": "推荐人？", "answer": "R", "for": "referrer"}],
}


def questions(entries) -> list[str]:
    return [entry["question"] for entry in entries]


def test_each_audience_reads_its_own_and_everyones_questions():
    entries = AUDIENCES["en"]
    assert questions(faq_for(entries, "referrer")) == ["Referrer?", "Everyone?", "Unmarked?"]
    assert questions(faq_for(entries, "friend")) == ["Friend?", "Everyone?", "Unmarked?"]
    # No audience: every entry (the spec's FAQ as written).
    assert faq_for(entries, None) == entries
    assert faq_for(None, "friend") == []
    spec = green(faq=AUDIENCES)
    assert questions(copy_in(spec, "en", audience="friend")["faq"]) == questions(
        faq_for(entries, "friend")
    )
    assert copy_in(spec, "en")["faq"] == entries


def test_a_language_without_a_question_for_the_reader_reads_the_others_for_them():
    # The Chinese FAQ has nothing for friends: a Chinese friend reads the English ones for
    # friends and everyone, whole, never a mix; a Chinese referrer reads the Chinese list.
    assert questions(faq_in(AUDIENCES, "zh-hans", "friend")) == [
        "Friend?",
        "Everyone?",
        "Unmarked?",
    ]
    assert questions(faq_in(AUDIENCES, "zh-hans", "referrer")) == ["推荐人？"]
    only_referrers = {"en": [AUDIENCES["en"][0]], "zh-hans": AUDIENCES["zh-hans"]}
    assert faq_in(only_referrers, "en", "friend") == []


# ------------------------------------------------------------------ the builder


def parse(fields: dict, action: str = ""):
    q = QueryDict(mutable=True)
    for name, value in fields.items():
        q.appendlist(name, value)
    context = ctx()
    return specforms.parse_section("copy", q, context, action), context


def test_the_copy_section_edits_the_faq_rows_and_terms_per_language():
    html = str(specforms.render_section("copy", green(faq=FAQ, terms=TERMS), ctx()))
    assert "FAQ (English)" in html and "Terms (Simplified Chinese)" in html
    fields = posted(html)
    assert fields["faq.en[1].question"] == "When?"
    assert fields["faq.zh-hans[0].answer"] == "立减 ¥20。"
    assert fields["terms.en"] == TERMS["en"]
    values, context = parse(fields)
    assert context.errors == {}
    assert (values["faq"], values["terms"]) == (FAQ, TERMS)

    # A row added to the Chinese list, one removed from the English one: nothing typed is lost.
    values, _context = parse(fields, "add:faq.zh-hans")
    assert values["faq"]["zh-hans"] == [*FAQ["zh-hans"], {}]
    values, _context = parse(fields, "remove:faq.en[0]")
    assert values["faq"]["en"] == FAQ["en"][1:]
    again = posted(specforms.render_section("copy", green(faq=values["faq"]), ctx()))
    assert again["faq.en[0].question"] == "When?"


def test_each_faq_row_has_a_shown_to_choice_that_round_trips():
    spec = green(faq=AUDIENCES)
    html = str(specforms.render_section("copy", spec, ctx()))
    assert '<label class="form-label" for="f-faq-en-1-for">Shown to</label>' in html
    assert (
        '<select class="form-select" id="f-faq-en-1-for" name="faq.en[1].for" '
        'aria-describedby="f-faq-en-1-for-help">'
        '<option value="everyone">everyone</option>'
        '<option value="referrer">referrers on their portal</option>'
        '<option value="friend" selected>invited friends on the invite page</option>'
        "</select>"
    ) in html
    fields = posted(html)
    assert [fields[f"faq.en[{i}].for"] for i in range(4)] == [
        "referrer",
        "friend",
        "everyone",
        "everyone",
    ]
    values, context = parse(fields)
    assert context.errors == {}
    # Everyone, the default, is not written out: the entries read as before.
    written = {"en": [dict(e) for e in AUDIENCES["en"]], "zh-hans": AUDIENCES["zh-hans"]}
    del written["en"][2]["for"]
    assert values["faq"] == written

    # A spec without any audience comes back unchanged; a new row is everyone's.
    values, _context = parse(posted(specforms.render_section("copy", green(faq=FAQ), ctx())))
    assert values["faq"] == FAQ
    values, _context = parse(fields, "add:faq.en")
    again = posted(specforms.render_section("copy", green(faq=values["faq"]), ctx()))
    assert again["faq.en[4].for"] == "everyone"


def test_a_wrong_audience_posted_is_refused_at_its_field():
    fields = posted(specforms.render_section("copy", green(faq=FAQ), ctx()))
    fields["faq.en[0].for"] = "staff"
    _values, context = parse(fields)
    assert context.errors == {"faq.en[0].for": ["Pick one of the choices."]}


def test_a_program_without_an_faq_offers_to_add_one():
    html = str(specforms.render_section("copy", green(), ctx()))
    assert 'value="add:faq"' in html and 'value="add:terms"' in html
    values, _context = parse(posted(html), "add:faq")
    assert values["faq"] == {}


@pytest.mark.django_db
def test_posting_the_copy_section_with_faq_rows_saves_them(marketer, plain):
    client = signed_in(marketer)
    data = section_data(client, "green-home", "copy")
    data.update(
        {
            "faq.__present": "1",
            "faq.en[0].question": "What does my friend get?",
            "faq.en[0].answer": "¥20 off.",
            "faq.zh-hans[0].question": "好友能得到什么？",
            "faq.zh-hans[0].answer": "立减 ¥20。",
            "faq.zh-hans[0].for": "friend",
            "terms.__present": "1",
            "terms.en": "Who can refer.\r\n\r\nLimits.",
            "terms.zh-hans": "",
        }
    )
    response = client.post("/app/programs/green-home/edit/copy/", data)
    assert response.status_code == 302
    plain.refresh_from_db()
    assert plain.current_version.number == 2
    assert plain.spec["faq"] == {
        "en": [{"question": "What does my friend get?", "answer": "¥20 off."}],
        "zh-hans": [{"question": "好友能得到什么？", "answer": "立减 ¥20。", "for": "friend"}],
    }
    # The browser's CRLF line breaks are kept as the JSON view writes them.
    assert plain.spec["terms"] == {"en": "Who can refer.\n\nLimits."}


@pytest.mark.django_db
def test_a_question_without_its_answer_is_refused_at_the_field(marketer, plain):
    client = signed_in(marketer)
    data = section_data(client, "green-home", "copy")
    data.update({"faq.__present": "1", "faq.en[0].question": "When?", "faq.en[0].answer": ""})
    response = client.post("/app/programs/green-home/edit/copy/", data)
    assert response.status_code == 422
    assert response.context["errors"] == {"faq.en[0].answer": ["This field is required."]}
    assert 'data-error-for="faq.en[0].answer"' in response.content.decode()
    plain.refresh_from_db()
    assert plain.current_version.number == 1
