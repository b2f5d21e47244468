"""The program's copy per language: a text is one string or one per language code, checked at
its own path, read in the reader's language (else another), and edited one field per
language in the builder, also in an experiment variant's overrides."""

from zoneinfo import ZoneInfo

from django.http import QueryDict

from programs import specforms
from programs.copy import copy_in, text_in
from programs.spec import validate_spec
from programs.spec.schema import COPY_LANGUAGES
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import FormData
from referral_platform.settings.base import LANGUAGES


def problems(spec):
    return [(p.path, p.message) for p in validate_spec(spec)]


def green():
    return ARCHETYPES["green-home"](2026)


def test_the_copy_languages_are_the_pages_languages():
    assert [code for code, _name in LANGUAGES] == COPY_LANGUAGES


def test_a_text_is_one_string_or_one_per_language():
    spec = green()
    spec["offer"] = {"headline": "¥20 off", "body": {"zh-hans": "7 天内有效。"}}
    spec["share_copy"] = {"wechat": "Hi", "sms": {"en": "Hi", "zh-hans": "你好"}}
    assert problems(spec) == []
    assert problems(green()) == []


def test_a_wrong_text_is_reported_at_its_field():
    spec = green()
    spec["offer"]["headline"] = {"en": "¥20 off", "fr": "20 ¥ de remise"}
    assert problems(spec) == [("offer.headline", "Pick one of: en, zh-hans.")]

    spec = green()
    spec["share_copy"]["wechat"] = {"en": "x" * 4001}
    assert problems(spec) == [("share_copy.wechat.en", "At most 4000 characters.")]

    spec = green()
    spec["offer"]["body"] = 20
    assert problems(spec) == [
        ("offer.body", "Expected a text, or one text per language (en, zh-hans).")
    ]

    spec = green()
    spec["offer"]["body"] = {"en": 20}
    assert problems(spec) == [("offer.body.en", "Expected text.")]


def test_the_copy_reads_in_the_language_else_another():
    spec = green()
    assert copy_in(spec, "zh-hans")["offer"] == {
        "headline": "首单满 ¥99 减 ¥20，再送免运费券",
        "body": "两张券均 7 天内有效。",
    }
    assert copy_in(spec, "en")["share_copy"]["poster"] == "Scan for ¥20 off + free shipping"
    assert text_in({"zh-hans": "只有中文"}, "en") == "只有中文"
    assert text_in({"en": "Only English", "zh-hans": " "}, "zh-hans") == "Only English"
    assert text_in("One for all", "zh-hans") == "One for all"
    assert text_in(None, "en") == ""
    # The rest of the spec is the same object's.
    assert copy_in(spec, "en")["stages"] is spec["stages"]


# ------------------------------------------------------------------ the builder's fields


def ctx():
    return specforms.Context(
        currency="CNY", tz=ZoneInfo("Asia/Shanghai"), url="/app/programs/x/edit/s/"
    )


def posted(html) -> dict:
    parser = FormData()
    parser.feed(str(html))
    return dict(parser.data)


def parse(section: str, fields: dict):
    q = QueryDict(mutable=True)
    for name, value in fields.items():
        q.appendlist(name, value)
    context = ctx()
    return specforms.parse_section(section, q, context), context


def test_the_copy_section_has_a_field_per_language():
    fields = posted(specforms.render_section("copy", green(), ctx()))
    assert fields["offer.headline.en"] == "¥20 off your first order over ¥99, plus free shipping"
    assert fields["offer.headline.zh-hans"] == "首单满 ¥99 减 ¥20，再送免运费券"
    assert fields["share_copy.poster.zh-hans"] == "扫码立减 ¥20，再享免运费"
    assert fields["share_copy.sms.en"] == ""

    fields["offer.body.zh-hans"] = "两张券 7 天内有效。"
    fields["share_copy.sms.zh-hans"] = "立减 ¥20"
    values, context = parse("copy", fields)
    assert context.errors == {}
    assert values["offer"]["body"] == {
        "en": "Both coupons are valid for 7 days.",
        "zh-hans": "两张券 7 天内有效。",
    }
    # Only the language filled in; a text the same in every language stays one string.
    assert values["share_copy"]["sms"] == {"zh-hans": "立减 ¥20"}
    fields["offer.body.zh-hans"] = fields["offer.body.en"]
    values, _context = parse("copy", fields)
    assert values["offer"]["body"] == "Both coupons are valid for 7 days."


def test_a_text_written_once_shows_in_every_language_field():
    spec = green()
    spec["offer"]["headline"] = "¥20 off"
    fields = posted(specforms.render_section("copy", spec, ctx()))
    assert fields["offer.headline.en"] == fields["offer.headline.zh-hans"] == "¥20 off"
    values, _context = parse("copy", fields)
    assert values["offer"]["headline"] == "¥20 off"


def test_a_variants_copy_overrides_are_fields_per_language_beside_the_rest_as_json():
    spec = green()
    spec["experiments"] = [
        {
            "key": "offer_copy",
            "side": "referee",
            "variants": [
                {"key": "control", "weight": 50},
                {
                    "key": "short",
                    "weight": 50,
                    "overrides": {
                        "offer": {"headline": {"en": "¥20 off now"}},
                        "attribution": {"window_days": 30},
                    },
                },
            ],
        }
    ]
    path = "experiments[0].variants[1].overrides"
    fields = posted(specforms.render_section("experiments", spec, ctx()))
    assert fields[f"{path}.offer.headline.en"] == "¥20 off now"
    assert fields[f"{path}.offer.headline.zh-hans"] == ""
    assert fields[f"{path}.share_copy.wechat.zh-hans"] == ""
    assert fields[f"{path}.__json"] == '{"attribution": {"window_days": 30}}'

    values, context = parse("experiments", fields)
    assert context.errors == {}
    assert values["experiments"] == spec["experiments"]

    fields[f"{path}.offer.headline.zh-hans"] = "立减 ¥20"
    fields[f"{path}.share_copy.wechat.en"] = "Short and sweet"
    values, context = parse("experiments", fields)
    assert values["experiments"][0]["variants"][1]["overrides"] == {
        "offer": {"headline": {"en": "¥20 off now", "zh-hans": "立减 ¥20"}},
        "share_copy": {"wechat": {"en": "Short and sweet"}},
        "attribution": {"window_days": 30},
    }
    merged = specforms.apply_section(dict(spec), "experiments", values)
    assert validate_spec(merged) == []

    fields[f"{path}.__json"] = "{nope"
    _values, context = parse("experiments", fields)
    assert list(context.errors) == [f"{path}.__json"]
