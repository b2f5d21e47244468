"""SCENARIOS.md B — consumer e-commerce: two-sided + monthly ladder, lottery, points."""

from __future__ import annotations

from datetime import date

from ._common import ambassador, at, not_a_customer_yet, window

CAMPAIGNS = (((3, 1), (3, 8)), ((6, 1), (6, 18)), ((11, 1), (11, 11)))


def green_home_spec(year: int = 2026) -> dict:
    campaign_windows = [window(date(year, *a), date(year, *b)) for a, b in CAMPAIGNS]
    return {
        "spec_version": 1,
        "slug": "green-home",
        "name": "Green miles",
        "status": "active",
        "starts_at": at(date(year, 1, 1)),
        "ends_at": None,
        "currency": "CNY",
        "landing_url": "https://shop.example.com/",
        "point_value": {"amount": 5, "per_points": 1},
        # What the estimator and the simulator assume about coupons.
        "estimates": {"average_order": 12000, "coupon_redemption_percent": 60},
        # The copy in each language the pages speak (programs.copy reads it).
        "offer": {
            "headline": {
                "en": "¥20 off your first order over ¥99, plus free shipping",
                "zh-hans": "首单满 ¥99 减 ¥20，再送免运费券",
            },
            "body": {
                "en": "Both coupons are valid for 7 days.",
                "zh-hans": "两张券均 7 天内有效。",
            },
        },
        "share_copy": {
            "wechat": {
                "en": "Green home goods I love — ¥20 off your first order.",
                "zh-hans": "我很喜欢的环保家居好物——首单立减 ¥20。",
            },
            "whatsapp": {
                "en": "¥20 off your first green-home order with my link.",
                "zh-hans": "通过我的链接，首单立减 ¥20。",
            },
            "poster": {
                "en": "Scan for ¥20 off + free shipping",
                "zh-hans": "扫码立减 ¥20，再享免运费",
            },
        },
        "eligibility": {
            "referrer": [
                {
                    "key": "has_valid_order",
                    "label": "At least one valid order",
                    "when": {"field": "orders_count", "op": "gte", "value": 1},
                },
                {
                    "key": "phone_verified",
                    "label": "A verified phone",
                    "when": {"field": "phone_verified", "op": "truthy"},
                },
                {
                    "key": "no_risk_record",
                    "label": "No serious returns or risk record in 12 months",
                    "when": {"field": "risk_flag", "op": "falsy"},
                },
            ],
            "referee": [
                {
                    "key": "never_ordered",
                    "label": "Never ordered before",
                    "when": not_a_customer_yet(),
                },
            ],
        },  # fmt: skip
        "attribution": {
            "window_days": 30,
            "model": "last",
            "priority": ["link", ["qr", "code"], "claim", "identity"],
            "assist_window_days": 30,
            "claim_after_order": True,
        },
        "stages": [
            {
                "key": "welcome",
                "label": "Sign-up",
                "status": None,
                "condition": {"event": "signup"},
                "rewards": [
                    {
                        "key": "referee_coupon",
                        "side": "referee",
                        "kind": "coupon",
                        "amount": 2000,
                        "min_spend": 9900,
                        "valid_days": 7,
                        "description": "¥20 off orders ≥ ¥99",
                    },
                    {
                        "key": "referee_free_shipping",
                        "side": "referee",
                        "kind": "perk",
                        "valid_days": 7,
                        "description": "Free shipping coupon",
                    },
                ],
            },
            {
                "key": "first_order",
                "label": "First order ≥ ¥99 kept 7 days",
                "status": "converted",
                "success": True,
                "condition": {"event": "purchase", "min_amount": 9900},
                "hold": {"days": 7},
                "rewards": [
                    {
                        "key": "referrer_choice",
                        "side": "referrer",
                        "kind": "coupon",
                        "amount": 2500,
                        "min_spend": 12900,
                        "valid_days": 14,
                        "description": "¥25 coupon (orders ≥ ¥129)",
                        "options": [
                            {
                                "key": "coupon_25",
                                "kind": "coupon",
                                "amount": 2500,
                                "min_spend": 12900,
                                "valid_days": 14,
                                "description": "¥25 coupon (orders ≥ ¥129)",
                            },
                            {
                                "key": "points_250",
                                "kind": "points",
                                "points": 250,
                                "description": "250 green miles",
                            },
                        ],
                        "default_option": "coupon_25",
                        "choice_by": "beneficiary",
                        "choice_days": 7,
                    },
                    {
                        "key": "lottery_ticket",
                        "side": "referrer",
                        "kind": "lottery_ticket",
                        "points": 1,
                        "description": "Lottery ticket",
                    },
                    {
                        "key": "success_points",
                        "side": "referrer",
                        "kind": "points",
                        "points": 300,
                        "description": "300 green miles",
                    },
                ],
            },
        ],  # fmt: skip
        "tiers": [
            {
                "key": "ladder_3",
                "threshold": 3,
                "period": "month",
                "rewards": [
                    {
                        "key": "ladder_3_coupon",
                        "side": "referrer",
                        "kind": "coupon",
                        "amount": 3000,
                        "min_spend": 16900,
                        "description": "¥30 coupon (orders ≥ ¥169)",
                    },
                    {
                        "key": "ladder_3_points",
                        "side": "referrer",
                        "kind": "points",
                        "points": 200,
                        "description": "200 green miles",
                    },
                ],
            },
            {
                "key": "ladder_5",
                "threshold": 5,
                "period": "month",
                "rewards": [
                    {
                        "key": "ladder_5_gift",
                        "side": "referrer",
                        "kind": "perk",
                        "estimated_value": 2900,
                        "description": "Eco cutlery blind bag, shipped with your next order (or alone after 30 days)",
                    },
                    {
                        "key": "ladder_5_trial",
                        "side": "referrer",
                        "kind": "perk",
                        "description": "A new-product trial place",
                    },
                ],
            },
        ],  # fmt: skip
        "caps": [
            {
                "key": "monthly_successes",
                "period": "month",
                "measure": "count",
                "limit": 10,
                "overflow": "nothing",
            }
        ],  # fmt: skip
        "lottery": {
            "ticket_valid": "month",
            "draws": [
                {
                    "key": "weekly",
                    "schedule": "weekly",
                    "weekday": 4,
                    "prizes": [
                        {
                            "key": "weekly_coupon_10",
                            "count": 20,
                            "kind": "coupon",
                            "amount": 1000,
                            "description": "¥10 coupon, no minimum",
                        },
                        {
                            "key": "weekly_free_shipping",
                            "count": 20,
                            "kind": "perk",
                            "estimated_value": 800,
                            "description": "Free shipping next month",
                        },
                        {
                            "key": "weekly_stickers",
                            "count": 50,
                            "kind": "perk",
                            "estimated_value": 300,
                            "description": "Sticker pack",
                        },
                    ],
                },
                {
                    "key": "monthly",
                    "schedule": "monthly",
                    "prizes": [
                        {
                            "key": "monthly_gift_set",
                            "count": 5,
                            "kind": "perk",
                            "estimated_value": 4900,
                            "description": "Eco gift set",
                        },
                    ],
                },
            ],
        },  # fmt: skip
        "points": {
            "name": "green miles",
            "expiry_months": 6,
            "catalogue": [
                {
                    "key": "coupon_10",
                    "points": 200,
                    "reward": {
                        "key": "coupon_10",
                        "kind": "coupon",
                        "amount": 1000,
                        "description": "¥10 coupon",
                    },
                },
                {
                    "key": "coupon_15",
                    "points": 300,
                    "reward": {
                        "key": "coupon_15",
                        "kind": "coupon",
                        "amount": 1500,
                        "min_spend": 11900,
                        "description": "¥15 off ≥ ¥119",
                    },
                },
                {
                    "key": "coupon_20",
                    "points": 400,
                    "reward": {
                        "key": "coupon_20",
                        "kind": "coupon",
                        "amount": 2000,
                        "description": "¥20 coupon",
                    },
                },
                {
                    "key": "free_shipping_month",
                    "points": 600,
                    "reward": {
                        "key": "free_shipping_month",
                        "kind": "perk",
                        "duration_days": 30,
                        "description": "One month of free shipping",
                    },
                },
            ],
        },  # fmt: skip
        "boosts": [
            *[
                {
                    "key": f"double_tickets_{i + 1}",
                    "label": "Campaign: double lottery tickets",
                    **w,
                    "items": ["lottery_ticket"],
                    "mode": "multiply",
                    "factor": 2,
                }
                for i, w in enumerate(campaign_windows)
            ],
            {
                "key": "double_points_d11",
                "label": "Double 11: double points",
                **campaign_windows[2],
                "items": ["success_points"],
                "mode": "multiply",
                "factor": 2,
            },
        ],  # fmt: skip
        "segment_bonuses": [
            {
                "key": "reactivation",
                "first_success_only": True,
                "when": {
                    "any": [
                        {"segment": "dormant", "of": "referrer"},
                        {"field": "referrer.last_order_at", "op": "days_since_gte", "value": 180},
                    ]
                },
                "rewards": [
                    {
                        "key": "reactivation_coupon",
                        "side": "referrer",
                        "kind": "coupon",
                        "amount": 5000,
                        "min_spend": 29900,
                        "description": "¥50 off orders ≥ ¥299",
                    },
                    {
                        "key": "reactivation_free_shipping",
                        "side": "referrer",
                        "kind": "perk",
                        "description": "Free shipping this month",
                    },
                    {
                        "key": "reactivation_ticket",
                        "side": "referrer",
                        "kind": "lottery_ticket",
                        "points": 1,
                        "description": "Extra lottery ticket",
                    },
                ],
            },
        ],  # fmt: skip
        "surprise": {
            "probability_percent": 0,
            "rewards": [
                {
                    "key": "surprise_points",
                    "side": "referrer",
                    "kind": "points",
                    "points": 300,
                    "description": "Surprise: double points",
                }
            ],
        },  # fmt: skip
        "ambassador": ambassador("green_ambassador"),
        "clawback_days": 0,
    }
