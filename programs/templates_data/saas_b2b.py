"""SCENARIOS.md A — B2B SaaS, staged two-sided cash + seasons/tiers + customer-success co-incentive."""

from __future__ import annotations

from datetime import date

from ._common import ambassador, at, first_full_week

CS_FIT = {
    "all": [
        {"any": [
            {"field": "referrer.nps", "op": "gte", "value": 9},
            {"field": "referrer.case_study", "op": "truthy"},
        ]},
        {"field": "first.qualified_lead.expected_users", "op": "gte", "value": 10},
    ]
}  # fmt: skip


def saas_b2b_spec(year: int = 2026) -> dict:
    mql_start, mql_end = first_full_week(year, 3)
    return {
        "spec_version": 1,
        "slug": "saas-b2b",
        "name": "Refer a team",
        "status": "active",
        "starts_at": at(date(year, 1, 1)),
        "ends_at": None,
        "currency": "CNY",
        "landing_url": "https://saas.example.com/signup",
        # What the estimator and the simulator assume about coupons.
        "estimates": {"average_order": 200000, "coupon_redemption_percent": 100},
        # The copy in each language the pages speak (programs.copy reads it).
        "offer": {
            "headline": {
                "en": "Your first year 10% off — or a month free",
                "zh-hans": "首年 9 折，或免费使用一个月",
            },
            "body": {
                "en": "Start a trial within 30 days; choose your offer when you buy an annual plan.",
                "zh-hans": "30 天内开始试用；购买年付方案时选择你的优惠。",
            },
        },
        "share_copy": {
            "wechat": {
                "en": "We plan our projects here — try it with your team.",
                "zh-hans": "我们用它来规划项目——和你的团队一起试试吧。",
            },
            "email": {
                "en": "I think your team would like this tool. Here is a trial with an offer.",
                "zh-hans": "我想你的团队会喜欢这个工具。这里有一个带优惠的试用。",
            },
            "linkedin": {
                "en": "The project tool my team relies on — with an offer for yours.",
                "zh-hans": "我的团队离不开的项目工具——也为你的团队准备了优惠。",
            },
        },
        "eligibility": {
            "referrer": [
                {
                    "key": "good_standing_or_active_or_trial",
                    "label": "Paying in good standing, or an active customer, or a qualified trial",
                    "when": {
                        "any": [
                            {
                                "all": [
                                    {"segment": "paying"},
                                    {"field": "in_arrears", "op": "falsy"},
                                    {"field": "risk_flag", "op": "falsy"},
                                ]
                            },
                            {
                                "all": [
                                    {"field": "active_users_30d", "op": "gte", "value": 5},
                                    {"field": "weekly_active_rate", "op": "gte", "value": 0.5},
                                ]
                            },
                            {
                                "all": [
                                    {"field": "trial_days", "op": "gte", "value": 7},
                                    {"field": "members", "op": "gte", "value": 3},
                                    {"field": "modules_enabled", "op": "gte", "value": 1},
                                ]
                            },
                        ]
                    },
                }
            ],
            "referee": [
                {
                    "key": "not_seen_12_months",
                    "label": "A new account not seen in the last 12 months",
                    "when": {
                        "any": [
                            {"not": {"field": "last_seen_at", "op": "exists"}},
                            {"field": "last_seen_at", "op": "days_since_gte", "value": 365},
                        ]
                    },
                }
            ],
        },  # fmt: skip
        "attribution": {
            "window_days": 90,
            "model": "last",
            "priority": ["link", ["qr", "code"], "claim", "identity"],
            "assist_window_days": 90,
        },
        "stages": [
            {
                "key": "qualified",
                "label": "Qualified lead",
                "status": "qualified",
                "condition": {"event": "qualified_lead", "within_days_of_signup": 30},
                "expected_business_days": 2,
                "rewards": [
                    {
                        "key": "mql_cash",
                        "side": "referrer",
                        "kind": "cash",
                        "amount": 5000,
                        "description": "Qualified lead",
                    },
                    {
                        "key": "cs_success_pack",
                        "side": "referee",
                        "kind": "perk",
                        "when": CS_FIT,
                        "description": "Success pack: 2 h implementation consultant, template import, security guide",
                    },
                    {
                        "key": "cs_trial_extension",
                        "side": "referee",
                        "kind": "credit",
                        "duration_days": 30,
                        "when": CS_FIT,
                        "description": "30-day extension of the SSO/automation trial",
                    },
                ],
            },
            {
                "key": "paid",
                "label": "First annual payment",
                "status": "converted",
                "success": True,
                "condition": {
                    "event": "purchase",
                    "min_amount": 168000,
                    "properties": {"field": "billing_period", "op": "eq", "value": "annual"},
                    "within_days_of_signup": 60,
                },
                "rewards": [
                    {
                        "key": "paid_cash",
                        "side": "referrer",
                        "kind": "cash",
                        "amount": 15000,
                        "description": "First annual payment",
                    },
                    {
                        "key": "referee_offer",
                        "side": "referee",
                        "kind": "coupon",
                        "percent_off": 10,
                        "max_amount": 50000,
                        "description": "First year 10% off",
                        "options": [
                            {
                                "key": "ten_percent_off",
                                "kind": "coupon",
                                "percent_off": 10,
                                "max_amount": 50000,
                                "description": "First year 10% off",
                            },
                            {
                                "key": "one_month_free",
                                "kind": "credit",
                                "duration_days": 30,
                                "estimated_value": 14000,
                                "description": "1 month free",
                            },
                        ],
                        "default_option": "ten_percent_off",
                        "choice_by": "checkout",
                    },
                ],
            },
            {
                "key": "retained",
                "label": "Retained 90 days",
                "status": "retained",
                "condition": {
                    "event": "activity",
                    "after_stage": "paid",
                    "properties": {
                        "any": [
                            {"field": "monthly_active_rate", "op": "gte", "value": 0.3},
                            {"field": "modules_enabled", "op": "gte", "value": 2},
                        ]
                    },
                },
                "hold": {"days": 90, "anchor": "stage:paid"},
                "reverse_on": [
                    {
                        "event": "activity",
                        "properties": {
                            "field": "kind",
                            "op": "eq",
                            "value": "subscription_cancelled",
                        },
                    },
                ],
                "rewards": [
                    {
                        "key": "retention_reward",
                        "side": "referrer",
                        "kind": "cash",
                        "amount": 10000,
                        "description": "90-day retention",
                        "options": [
                            {
                                "key": "cash",
                                "kind": "cash",
                                "amount": 10000,
                                "description": "¥100 cash",
                            },
                            {
                                "key": "voucher",
                                "kind": "coupon",
                                "amount": 10000,
                                "description": "¥100 product voucher",
                            },
                        ],
                        "default_option": "cash",
                        "choice_by": "beneficiary",
                        "choice_days": 7,
                    },
                ],
            },
            {
                "key": "cs_success",
                "label": "Customer-success milestone",
                "status": None,
                "condition": {
                    "event": "activity",
                    "within_days_of_signup": 90,
                    "properties": {
                        "all": [
                            {"field": "modules_enabled", "op": "gte", "value": 2},
                            {"field": "monthly_active_rate", "op": "gte", "value": 0.3},
                        ]
                    },
                },
                "rewards": [
                    {
                        "key": "cs_club",
                        "side": "referrer",
                        "kind": "perk",
                        "when": CS_FIT,
                        "description": "Customer success club membership",
                    },
                    {
                        "key": "cs_voucher",
                        "side": "referrer",
                        "kind": "coupon",
                        "amount": 20000,
                        "when": CS_FIT,
                        "description": "¥200 product voucher",
                    },
                ],
            },
        ],  # fmt: skip
        "tiers": [
            {
                "key": "bronze",
                "threshold": 3,
                "counts": "stage:qualified",
                "period": "season",
                "rewards": [
                    {
                        "key": "bronze_badge",
                        "kind": "perk",
                        "side": "referrer",
                        "description": "Avatar frame + e-certificate",
                    }
                ],
            },
            {
                "key": "silver",
                "threshold": 5,
                "counts": "stage:qualified",
                "period": "season",
                "rewards": [
                    {
                        "key": "silver_reward",
                        "kind": "credit",
                        "side": "referrer",
                        "duration_days": 30,
                        "description": "1 month Pro",
                        "options": [
                            {
                                "key": "pro_month",
                                "kind": "credit",
                                "duration_days": 30,
                                "description": "1 month Pro",
                            },
                            {
                                "key": "extra_seats",
                                "kind": "credit",
                                "description": "5 extra seats for a trial",
                            },
                        ],
                        "default_option": "pro_month",
                        "choice_days": 7,
                    }
                ],
            },
            {
                "key": "gold",
                "threshold": 8,
                "counts": "stage:qualified",
                "period": "season",
                "rewards": [
                    {
                        "key": "gold_reward",
                        "kind": "perk",
                        "side": "referrer",
                        "description": "Early access + conference VIP ticket",
                        "options": [
                            {
                                "key": "vip",
                                "kind": "perk",
                                "description": "Early access + conference VIP ticket",
                            },
                            {
                                "key": "workshop",
                                "kind": "perk",
                                "description": "An online workshop seat",
                            },
                        ],
                        "default_option": "vip",
                        "choice_days": 7,
                    }
                ],
            },
        ],  # fmt: skip
        "season": {
            "period": "season",
            "metric": "success",
            "min_successes": 2,
            "prizes": [
                {
                    "rank": rank,
                    "reward": {
                        "key": f"season_rank_{rank}",
                        "kind": "cash",
                        "side": "referrer",
                        "amount": amount,
                        "description": f"Season rank {rank}",
                        "options": [
                            {
                                "key": "cash",
                                "kind": "cash",
                                "amount": amount,
                                "description": "Cash",
                            },
                            {
                                "key": "voucher",
                                "kind": "coupon",
                                "amount": amount,
                                "description": "Product voucher",
                            },
                        ],
                        "default_option": "cash",
                        "choice_days": 7,
                    },
                }
                for rank, amount in ((1, 50000), (2, 30000), (3, 20000))
            ],
        },  # fmt: skip
        "caps": [
            {
                "key": "quarterly_base",
                "period": "quarter",
                "measure": "count",
                "limit": 10,
                "items": ["mql_cash", "paid_cash", "retention_reward"],
                "overflow": "honor",
                "honor": {
                    "key": "honor_points",
                    "kind": "points",
                    "side": "referrer",
                    "points": 100,
                    "description": "Honor points (counts for the leaderboard)",
                },
            }
        ],  # fmt: skip
        "referee_discount_cap": 50000,
        "boosts": [
            {
                # ISO week 10 is a full week in March every year (the first full one in 2026).
                "key": "double_mql_week",
                "label": "Double MQL week",
                "every_year": {"iso_week": 10},
                "items": ["mql_cash"],
                "mode": "replace",
                "set": {"amount": 8000},
            },
            *[
                {
                    "key": f"referee_extra_month_{m:02d}",
                    "label": "Referee +1 free month",
                    "every_year": {"month": m},
                    "items": ["referee_offer"],
                    "mode": "replace",
                    "options_set": {
                        "one_month_free": {
                            "duration_days": 60,
                            "estimated_value": 28000,
                            "description": "2 months free",
                        },
                        "ten_percent_off": {
                            "duration_days": 30,
                            "description": "First year 10% off + 1 month free",
                        },
                    },
                }
                for m in (4, 9)
            ],
        ],  # fmt: skip
        "experiments": [
            {
                "key": "referee_offer_ab",
                "side": "referee",
                "variants": [
                    {"key": "ten_percent_off", "weight": 50, "label": "First year 10% off"},
                    {"key": "one_month_free", "weight": 50, "label": "1 month free"},
                ],
            },
        ],  # fmt: skip
        "ambassador": ambassador("saas_ambassador"),
        "clawback_days": 0,
        # "Only the first referred team of a company counts."
        "first_team_of_company_only": True,
    }
