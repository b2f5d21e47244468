"""The JSON Schema of a program spec: the one document the API, `export_program` and the
builder exchange. Structure lives here; cross-references (unique keys, stage names,
choice defaults) are checked in `validate.py` because JSON Schema cannot express them.

Money is integer minor units in the program's `currency` (`amount`, `max_amount`,
`min_spend`, `estimated_value`, `limit` of an amount cap …); points are integers.
"""

from __future__ import annotations

from .docs import doc_for

KEY = {"type": "string", "pattern": "^[a-z0-9][a-z0-9_\\-]{0,79}$"}
MINOR = {"type": "integer", "minimum": 0}
DAYS = {"type": "integer", "minimum": 0, "maximum": 3660}
DATETIME = {"type": ["string", "null"], "format": "date-time"}
PERIOD = {"enum": ["day", "week", "month", "quarter", "year", "season", "lifetime"]}
KINDS = ["cash", "coupon", "points", "credit", "perk", "lottery_ticket", "donation"]
EVENT_TYPES = ["signup", "qualified_lead", "purchase", "refund", "activity", "share"]
SOURCES = ["link", "qr", "code", "claim", "identity"]
# The languages a program's copy may be written in (settings.LANGUAGES' codes).
COPY_LANGUAGES = ["en", "zh-hans"]
# A text a customer reads: one string for every language, or one per language code.
TEXT = {"$ref": "#/$defs/text"}
# The program's FAQ and terms, per language (programs.copy reads them in the reader's
# language): a page-sized FAQ, and terms that fit a page of plain text.
FAQ_MAX_ENTRIES = 20
QUESTION_MAX_LENGTH = 300
ANSWER_MAX_LENGTH = 2000
TERMS_MAX_LENGTH = 10000
# Who reads an FAQ entry: the referrer on the portal, the invited friend on the invite page,
# or both (the default, so an entry without `for` is shown on both pages).
FAQ_AUDIENCES = ["everyone", "referrer", "friend"]
FAQ_EVERYONE = "everyone"
SHARE_CHANNELS = [
    "wechat", "whatsapp", "telegram", "email", "sms", "x", "linkedin", "copy", "poster",
]  # fmt: skip
OPS = [
    "eq", "ne", "gt", "gte", "lt", "lte", "in", "not_in", "exists", "truthy", "falsy",
    "days_since_gte", "days_since_lte",
]  # fmt: skip

VALUE_FIELDS = {
    "kind": {"enum": KINDS},
    "description": {"type": "string", "maxLength": 300},
    "amount": MINOR,
    "points": {"type": "integer", "minimum": 0},
    "percent_off": {"type": "integer", "minimum": 1, "maximum": 100},
    "max_amount": MINOR,
    "min_spend": MINOR,
    "valid_days": DAYS,
    "duration_days": DAYS,
    "estimated_value": MINOR,
}

SCHEMA: dict = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://referral-platform.example/schemas/program-spec.json",
    "title": "Program spec",
    "type": "object",
    "required": ["slug", "name", "currency", "stages"],
    "additionalProperties": False,
    "$defs": {
        "text": {
            "description": (
                "A text customers read: one string, or an object keyed by language code "
                '({"en": …, "zh-hans": …}); a reader whose language is missing sees another.'
            ),
            "anyOf": [
                {"type": "string", "maxLength": 4000},
                {
                    "type": "object",
                    "propertyNames": {"enum": COPY_LANGUAGES},
                    "additionalProperties": {"type": "string", "maxLength": 4000},
                },
            ],
        },
        "condition": {
            "description": "A leaf {field, op, value}, {segment}, or {all|any: [...]}, {not: ...}.",
            "type": "object",
            "oneOf": [
                {
                    "required": ["field", "op"],
                    "properties": {
                        "field": {"type": "string", "minLength": 1},
                        "op": {"enum": OPS},
                        "value": {},
                    },
                    "additionalProperties": False,
                },
                {
                    "required": ["segment"],
                    "properties": {
                        "segment": {"type": "string"},
                        "of": {"enum": ["referrer", "referee"]},
                    },
                    "additionalProperties": False,
                },
                {
                    "required": ["all"],
                    "properties": {
                        "all": {"type": "array", "items": {"$ref": "#/$defs/condition"}}
                    },
                    "additionalProperties": False,
                },
                {
                    "required": ["any"],
                    "properties": {
                        "any": {"type": "array", "items": {"$ref": "#/$defs/condition"}}
                    },
                    "additionalProperties": False,
                },
                {
                    "required": ["not"],
                    "properties": {"not": {"$ref": "#/$defs/condition"}},
                    "additionalProperties": False,
                },
            ],
        },
        "option": {
            "type": "object",
            "required": ["key", "kind"],
            "properties": {"key": KEY, **VALUE_FIELDS},
            "additionalProperties": False,
        },
        "item": {
            "type": "object",
            "required": ["key", "kind"],
            "properties": {
                "key": KEY,
                "side": {"enum": ["referrer", "referee"]},
                **VALUE_FIELDS,
                "options": {"type": "array", "items": {"$ref": "#/$defs/option"}},
                "default_option": KEY,
                "choice_days": DAYS,
                "choice_by": {"enum": ["beneficiary", "checkout"]},
                "when": {"$ref": "#/$defs/condition"},
            },
            "additionalProperties": False,
        },
        "rule": {
            "type": "object",
            "required": ["key", "when"],
            "properties": {
                "key": KEY,
                "when": {"$ref": "#/$defs/condition"},
                "label": {"type": "string"},
            },
            "additionalProperties": False,
        },
        "event_condition": {
            "type": "object",
            "required": ["event"],
            "properties": {
                "event": {"enum": EVENT_TYPES},
                "min_amount": MINOR,
                "properties": {"$ref": "#/$defs/condition"},
                "count": {"type": "integer", "minimum": 1},
                "within_days_of_signup": DAYS,
                "after_stage": KEY,
                "within_days_of_stage": DAYS,
            },
            "additionalProperties": False,
        },
        "stage": {
            "type": "object",
            "required": ["key", "status", "condition"],
            "properties": {
                "key": KEY,
                "label": {"type": "string"},
                "status": {"enum": ["qualified", "converted", "retained", None]},
                "success": {"type": "boolean"},
                "condition": {"$ref": "#/$defs/event_condition"},
                "expected_business_days": DAYS,
                "hold": {
                    "type": "object",
                    "properties": {
                        "days": DAYS,
                        "business_days": DAYS,
                        "anchor": {
                            "type": "string",
                            "pattern": "^(event|signup|stage:[a-z0-9_\\-]+)$",
                        },
                    },
                    "additionalProperties": False,
                },
                "reverse_on": {"type": "array", "items": {"$ref": "#/$defs/event_condition"}},
                "rewards": {"type": "array", "items": {"$ref": "#/$defs/item"}},
            },
            "additionalProperties": False,
        },
        "window": {
            "type": "object",
            "required": ["starts_at", "ends_at"],
            "properties": {
                "starts_at": {"type": "string", "format": "date-time"},
                "ends_at": {"type": "string", "format": "date-time"},
            },
        },
    },
    "properties": {
        "spec_version": {"const": 1},
        "slug": {"type": "string", "pattern": "^[a-z0-9][a-z0-9\\-]{0,79}$"},
        "name": {"type": "string", "minLength": 1, "maxLength": 200},
        "status": {"enum": ["draft", "active", "paused", "ended"]},
        "starts_at": DATETIME,
        "ends_at": DATETIME,
        "currency": {"type": "string", "pattern": "^[A-Z]{3}$"},
        "landing_url": {"type": "string", "maxLength": 500},
        "point_value": {
            "type": "object",
            "description": "Money per `per_points` points, for cost KPIs.",
            "required": ["amount", "per_points"],
            "properties": {"amount": MINOR, "per_points": {"type": "integer", "minimum": 1}},
            "additionalProperties": False,
        },
        "estimates": {
            "type": "object",
            "properties": {
                "average_order": MINOR,
                "coupon_redemption_percent": {"type": "integer", "minimum": 0, "maximum": 100},
            },
            "additionalProperties": False,
        },
        "offer": {
            "type": "object",
            "properties": {"headline": TEXT, "body": TEXT},
            "additionalProperties": False,
        },
        "share_copy": {
            "type": "object",
            "propertyNames": {"enum": SHARE_CHANNELS},
            "additionalProperties": TEXT,
        },
        "faq": {
            "type": "object",
            "propertyNames": {"enum": COPY_LANGUAGES},
            "additionalProperties": {
                "type": "array",
                "maxItems": FAQ_MAX_ENTRIES,
                "items": {
                    "type": "object",
                    "required": ["question", "answer"],
                    "properties": {
                        "question": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": QUESTION_MAX_LENGTH,
                        },
                        "answer": {
                            "type": "string",
                            "minLength": 1,
                            "maxLength": ANSWER_MAX_LENGTH,
                        },
                        "for": {"enum": FAQ_AUDIENCES, "default": FAQ_EVERYONE},
                    },
                    "additionalProperties": False,
                },
            },
        },
        "terms": {
            "type": "object",
            "propertyNames": {"enum": COPY_LANGUAGES},
            "additionalProperties": {"type": "string", "maxLength": TERMS_MAX_LENGTH},
        },
        "eligibility": {
            "type": "object",
            "properties": {
                "referrer": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
                "referee": {"type": "array", "items": {"$ref": "#/$defs/rule"}},
            },
            "additionalProperties": False,
        },
        "attribution": {
            "type": "object",
            "properties": {
                "window_days": {"type": "integer", "minimum": 1, "maximum": 3660},
                "model": {"enum": ["first", "last"]},
                # Strongest first; an inner list is a group of equal rank, settled by
                # the model (first/last touch): SEMANTICS §3's default is
                # ["link", ["qr", "code"], "claim", "identity"].
                "priority": {
                    "type": "array",
                    "items": {
                        "anyOf": [
                            {"enum": SOURCES},
                            {
                                "type": "array",
                                "items": {"enum": SOURCES},
                                "minItems": 2,
                                "uniqueItems": True,
                            },
                        ]
                    },
                    "uniqueItems": True,
                },
                "assist_window_days": DAYS,
                "claim_after_order": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "stages": {"type": "array", "minItems": 1, "items": {"$ref": "#/$defs/stage"}},
        "tiers": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "threshold", "period", "rewards"],
                "properties": {
                    "key": KEY,
                    "label": {"type": "string"},
                    "threshold": {"type": "integer", "minimum": 1},
                    "counts": {"type": "string", "pattern": "^(success|stage:[a-z0-9_\\-]+)$"},
                    "period": PERIOD,
                    "rewards": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                },
                "additionalProperties": False,
            },
        },
        "season": {
            "type": "object",
            "required": ["period", "prizes"],
            "properties": {
                "period": PERIOD,
                "metric": {"type": "string", "pattern": "^(success|stage:[a-z0-9_\\-]+)$"},
                "min_successes": {"type": "integer", "minimum": 0},
                "prizes": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["rank", "reward"],
                        "properties": {
                            "rank": {"type": "integer", "minimum": 1},
                            "reward": {"$ref": "#/$defs/item"},
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
        "caps": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "period", "limit"],
                "properties": {
                    "key": KEY,
                    "period": PERIOD,
                    "measure": {"enum": ["count", "amount"]},
                    "limit": {"type": "integer", "minimum": 0},
                    "items": {"type": "array", "items": KEY},
                    "overflow": {"enum": ["nothing", "honor"]},
                    "honor": {"$ref": "#/$defs/item"},
                },
                "additionalProperties": False,
            },
        },
        "budget": MINOR,
        "referee_discount_cap": MINOR,
        "boosts": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "mode"],
                "properties": {
                    "key": KEY,
                    "label": {"type": "string"},
                    "starts_at": {"type": "string", "format": "date-time"},
                    "ends_at": {"type": "string", "format": "date-time"},
                    "every_year": {
                        "type": "object",
                        "maxProperties": 1,
                        "minProperties": 1,
                        "properties": {
                            "month": {"type": "integer", "minimum": 1, "maximum": 12},
                            "iso_week": {"type": "integer", "minimum": 1, "maximum": 53},
                        },
                        "additionalProperties": False,
                    },
                    "first_days": {"type": "integer", "minimum": 1, "maximum": 3660},
                    "items": {"type": "array", "items": KEY},
                    "applies_to": {"enum": ["items", "ladder"]},
                    "mode": {"enum": ["multiply", "replace"]},
                    "factor": {"type": "integer", "minimum": 1, "maximum": 100},
                    "set": {
                        "type": "object",
                        "properties": VALUE_FIELDS,
                        "additionalProperties": False,
                    },
                    "options_set": {
                        "type": "object",
                        "additionalProperties": {
                            "type": "object",
                            "properties": VALUE_FIELDS,
                            "additionalProperties": False,
                        },
                    },
                    "when": {"$ref": "#/$defs/condition"},
                    "per_referrer_limit": MINOR,
                },
                "additionalProperties": False,
            },
        },
        "segment_bonuses": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "when", "rewards"],
                "properties": {
                    "key": KEY,
                    "when": {"$ref": "#/$defs/condition"},
                    "first_success_only": {"type": "boolean"},
                    "rewards": {"type": "array", "items": {"$ref": "#/$defs/item"}},
                },
                "additionalProperties": False,
            },
        },
        "surprise": {
            "type": "object",
            "required": ["probability_percent", "rewards"],
            "properties": {
                "probability_percent": {"type": "number", "minimum": 0, "maximum": 100},
                "rewards": {"type": "array", "items": {"$ref": "#/$defs/item"}},
            },
            "additionalProperties": False,
        },
        "charity": {
            "type": "object",
            "required": ["key", "amount"],
            "properties": {
                "key": KEY,
                "amount": MINOR,
                "description": {"type": "string"},
                "certificate": {"type": "boolean"},
            },
            "additionalProperties": False,
        },
        "team": {
            "type": "object",
            "required": ["min_members", "max_members", "within_days", "member_reward"],
            "properties": {
                "property": {"type": "string"},
                "min_members": {"type": "integer", "minimum": 2},
                "max_members": {"type": "integer", "minimum": 2},
                "within_days": DAYS,
                "member_reward": {"$ref": "#/$defs/item"},
                "member_reward_long": {"$ref": "#/$defs/item"},
                "long_course_weeks": {"type": "integer", "minimum": 1},
                "leader_reward": {"$ref": "#/$defs/item"},
            },
            "additionalProperties": False,
        },
        "points": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "expiry_months": {"type": "integer", "minimum": 0},
                "catalogue": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "points", "reward"],
                        "properties": {
                            "key": KEY,
                            "points": {"type": "integer", "minimum": 1},
                            "reward": {"$ref": "#/$defs/option"},
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
        "lottery": {
            "type": "object",
            "required": ["draws"],
            "properties": {
                "ticket_valid": PERIOD,
                "draws": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["key", "schedule", "prizes"],
                        "properties": {
                            "key": KEY,
                            "schedule": {"enum": ["weekly", "monthly"]},
                            "weekday": {"type": "integer", "minimum": 0, "maximum": 6},
                            "prizes": {
                                "type": "array",
                                "items": {
                                    "type": "object",
                                    "required": ["key", "count", "kind"],
                                    "properties": {
                                        "count": {"type": "integer", "minimum": 1},
                                        "key": KEY,
                                        **VALUE_FIELDS,
                                    },
                                    "additionalProperties": False,
                                },
                            },
                        },
                        "additionalProperties": False,
                    },
                },
            },
            "additionalProperties": False,
        },
        "ambassador": {
            "type": "object",
            "required": ["min_referrals", "min_retained_percent"],
            "properties": {
                "min_referrals": {"type": "integer", "minimum": 1},
                "min_retained_percent": {"type": "integer", "minimum": 0, "maximum": 100},
                "reward": {"$ref": "#/$defs/item"},
            },
            "additionalProperties": False,
        },
        "clawback_days": DAYS,
        # SCENARIOS A: only the first referred team of a company counts. A referral whose
        # referee shares a company (`company_id`, else a non-free-mail email domain) with
        # an earlier referee of the program earns nothing: its items are blocked rows.
        "first_team_of_company_only": {"type": "boolean"},
        # SEMANTICS §10: who is held out is `programs.holdout.in_holdout` (a hash of the seed
        # and the participant id); `percent` has at most two decimals (basis points).
        "holdout": {
            "type": "object",
            "required": ["percent"],
            "properties": {
                "percent": {"type": "number", "minimum": 0, "maximum": 50},
                "seed": {"type": "string", "maxLength": 80},
            },
            "additionalProperties": False,
        },
        "experiments": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["key", "side", "variants"],
                "properties": {
                    "key": KEY,
                    "side": {"enum": ["referrer", "referee"]},
                    "variants": {
                        "type": "array",
                        "minItems": 2,
                        "items": {
                            "type": "object",
                            "required": ["key", "weight"],
                            "properties": {
                                "key": KEY,
                                "weight": {"type": "integer", "minimum": 0},
                                "label": {"type": "string"},
                                "overrides": {"type": "object"},
                            },
                            "additionalProperties": False,
                        },
                    },
                },
                "additionalProperties": False,
            },
        },
    },
}


# The name each shared definition is documented under (see `docs.FIELDS`).
_DEF_OWNER = {
    "condition": "condition_node", "option": "options", "item": "rewards", "rule": "rule",
    "event_condition": "condition", "stage": "stages", "window": "window", "text": "text",
}  # fmt: skip


def _annotate(node, owner: str):
    """A copy of `node` whose every property carries its title, description and `x-unit`."""
    if isinstance(node, list):
        return [_annotate(child, owner) for child in node]
    if not isinstance(node, dict):
        return node
    out = {}
    for key, value in node.items():
        if key == "properties" and isinstance(value, dict):
            out[key] = {}
            for name, child in value.items():
                child = _annotate(child, name)
                doc = doc_for(owner, name)
                if doc and isinstance(child, dict):
                    title, description, unit = doc
                    child = {**child, "title": title, "description": description, "x-unit": unit}
                out[key][name] = child
        elif key == "$defs":
            out[key] = {name: _annotate(d, _DEF_OWNER[name]) for name, d in value.items()}
        elif key in ("items", "additionalProperties", "oneOf", "anyOf"):
            out[key] = _annotate(value, owner)
        else:
            out[key] = value
    return out


SCHEMA = _annotate(SCHEMA, "(root)")
