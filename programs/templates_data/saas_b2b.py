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
        # The program's own questions and terms, per language: the portal and the invite page
        # show them instead of the generic ones. They say only what the rules below pay. Each
        # question is for the referrer (portal), the friend (invite page) or, without "for",
        # for both.
        "faq": {
            "en": [
                {
                    "question": "What does my friend's team get?",
                    "answer": "When the team buys its first annual plan (¥1,680 or more) within 60 days of signing up, it chooses at checkout: the first year 10% off (at most ¥500 off) or one month free. Teams that buy in April or September get one more free month.",
                    "for": "referrer",
                },
                {
                    "question": "What do I earn?",
                    "answer": "¥50 when your friend's team becomes a qualified lead within 30 days of signing up (¥80 during the double week in March); ¥150 more when it pays for its first annual plan; and, if the team is still active 90 days after paying, ¥100 cash or a ¥100 product voucher, your choice.",
                    "for": "referrer",
                },
                {
                    "question": "What are the season tiers and prizes?",
                    "answer": "Each quarter, your qualified leads count towards tiers: 3 for bronze (avatar frame and e-certificate), 5 for silver (1 month of Pro or 5 extra seats for a trial), 8 for gold (early access and a conference VIP ticket, or an online workshop seat). The quarter's top 3 referrers with at least 2 paid referrals win ¥500, ¥300 or ¥200, in cash or as a product voucher.",
                    "for": "referrer",
                },
                {
                    "question": "Is there a limit?",
                    "answer": "Base rewards are paid for up to 10 referrals per quarter. Beyond that, each referral earns 100 honor points instead.",
                    "for": "referrer",
                },
                {
                    "question": "What is the customer-success bonus?",
                    "answer": "If you rate us 9 or more (or have a case study with us) and your friend's team expects 10 or more users, the team gets a success pack (2 hours with an implementation consultant, template import, security guide) and a 30-day extension of the SSO and automation trial. If the team then enables 2 key modules and reaches the monthly-active threshold within 90 days of signing up, you join the customer success club and get a ¥200 product voucher.",
                    "for": "referrer",
                },
                {
                    "question": "What does my team get?",
                    "answer": "When your team buys its first annual plan (¥1,680 or more) within 60 days of signing up, you choose at checkout: the first year 10% off (at most ¥500 off) or one month free. Teams that buy in April or September get one more free month.",
                    "for": "friend",
                },
                {
                    "question": "How do I use my offer?",
                    "answer": "Sign up with the link or code you were sent, within 90 days of opening it. When you buy your first annual plan of ¥1,680 or more within 60 days of signing up, pick the 10% off or the free month at checkout.",
                    "for": "friend",
                },
                {
                    "question": "Which teams can get the offer?",
                    "answer": "A new account not seen in the last 12 months. Only the first referred team of a company counts: a later team of the same company gets no offer, and its referrer no reward.",
                },
            ],
            "zh-hans": [
                {
                    "question": "好友的团队能得到什么？",
                    "answer": "团队在注册后 60 天内首次购买年付方案（¥1,680 及以上）时，可在结账时二选一：首年 9 折（最多减 ¥500）或免费使用一个月。在 4 月或 9 月购买的团队再多送一个月。",
                    "for": "referrer",
                },
                {
                    "question": "我能获得什么？",
                    "answer": "好友的团队在注册后 30 天内成为合格线索，你获得 ¥50（3 月双倍周期间为 ¥80）；首次支付年付方案，你再获得 ¥150；付款 90 天后团队仍保持活跃，你可以选择 ¥100 现金或 ¥100 产品代金券。",
                    "for": "referrer",
                },
                {
                    "question": "赛季等级和奖品是什么？",
                    "answer": "每个季度，你带来的合格线索计入等级：3 个为铜牌（头像框和电子证书），5 个为银牌（1 个月 Pro 或试用增加 5 个席位），8 个为金牌（新功能抢先体验和大会 VIP 门票，或一个在线工作坊名额）。当季至少有 2 个付费推荐的前三名推荐人分别获得 ¥500、¥300、¥200，可选现金或产品代金券。",
                    "for": "referrer",
                },
                {
                    "question": "奖励有上限吗？",
                    "answer": "每季度最多为 10 个推荐发放基础奖励。超出部分，每个推荐改为获得 100 荣誉积分。",
                    "for": "referrer",
                },
                {
                    "question": "客户成功共建奖励是什么？",
                    "answer": "如果你给我们的评分为 9 分及以上（或与我们有客户案例），且好友团队预计有 10 名及以上用户，该团队将获得成功礼包（2 小时实施顾问、模板导入、安全指南），以及 SSO 和自动化功能试用延长 30 天。若该团队在注册后 90 天内启用 2 个关键模块并达到月活跃标准，你将加入客户成功俱乐部，并获得一张 ¥200 产品代金券。",
                    "for": "referrer",
                },
                {
                    "question": "我的团队能得到什么？",
                    "answer": "团队在注册后 60 天内首次购买年付方案（¥1,680 及以上）时，可在结账时二选一：首年 9 折（最多减 ¥500）或免费使用一个月。在 4 月或 9 月购买的团队再多送一个月。",
                    "for": "friend",
                },
                {
                    "question": "怎么使用我的优惠？",
                    "answer": "在打开收到的链接或使用邀请码后 90 天内注册。注册后 60 天内首次购买 ¥1,680 及以上的年付方案时，在结账时选择 9 折或免费一个月。",
                    "for": "friend",
                },
                {
                    "question": "哪些团队可以获得优惠？",
                    "answer": "近 12 个月内未出现过的新账户。同一公司只计第一个被推荐的团队：同一公司之后的团队不获得优惠，其推荐人也不获得奖励。",
                },
            ],
        },
        "terms": {
            "en": "Who can refer: a paying customer in good standing (no arrears, no violations); an active customer (5 or more active users in the last 30 days and a weekly active rate of 50% or more); or a qualified trial (7 or more trial days, 3 or more members and at least one core module connected).\n\nWho can be referred: a new account not seen in the last 12 months, from another company. Only the first referred team of a company counts; a team of the same company as you earns no reward.\n\nWhen a referral counts: the team signs up within 90 days of using your link, code or QR code (the latest one counts), becomes a qualified lead within 30 days and pays for an annual plan of ¥1,680 or more within 60 days of signing up.\n\nLimits: base rewards for at most 10 referrals per quarter; beyond that, 100 honor points per referral. A friend's discounts add up to at most ¥500. The retention reward is cancelled if the subscription is cancelled within the 90 days after payment.\n\nReferrals are checked for fraud: referrals found to be fake or from your own company are rejected and earn nothing.",
            "zh-hans": "谁可以推荐：信誉良好的付费客户（无欠费、无违规）；活跃客户（近 30 天活跃用户 5 人及以上，且周活跃率 50% 及以上）；或合格试用客户（试用 7 天及以上、3 名及以上成员，且至少接入一个核心模块）。\n\n谁可以被推荐：近 12 个月内未出现过的新账户，且来自其他公司。同一公司只计第一个被推荐的团队；与你同一公司的团队不获得奖励。\n\n推荐何时生效：团队在使用你的链接、邀请码或二维码后 90 天内注册（以最后一次为准），在注册后 30 天内成为合格线索，并在注册后 60 天内支付 ¥1,680 及以上的年付方案。\n\n上限：每季度最多为 10 个推荐发放基础奖励；超出部分每个推荐获得 100 荣誉积分。好友的各项优惠合计最多 ¥500。付款后 90 天内取消订阅的，留存奖励取消。\n\n所有推荐都会经过反作弊审核：被认定为虚假或来自你所在公司的推荐将被拒绝，不获得任何奖励。",
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
