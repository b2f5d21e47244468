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
        # The program's own questions and terms, per language: the portal and the invite page
        # show them instead of the generic ones. They say only what the rules below pay. Each
        # question is for the referrer (portal), the friend (invite page) or, without "for",
        # for both.
        "faq": {
            "en": [
                {
                    "question": "What does my friend get?",
                    "answer": "¥20 off their first order of ¥99 or more, plus a free-shipping coupon. Both are valid for 7 days after they sign up with your link or code.",
                    "for": "referrer",
                },
                {
                    "question": "What do I get when a friend orders?",
                    "answer": "When your friend's first order of ¥99 or more has passed the 7-day no-return window, you choose a ¥25 coupon (orders of ¥129 or more, valid 14 days) or 250 green miles; without a choice within 7 days, you get the coupon. You also get 300 green miles and a ticket for this month's lottery.",
                    "for": "referrer",
                },
                {
                    "question": "Is there more for several friends in a month?",
                    "answer": "At 3 successful referrals in a month: a ¥30 coupon (orders of ¥169 or more) and 200 green miles. At 5: an eco cutlery blind bag, shipped with your next order (or alone after 30 days), and a new-product trial place.",
                    "for": "referrer",
                },
                {
                    "question": "How does the lottery work?",
                    "answer": "Each ticket takes part in every Friday draw of its month and in the monthly grand draw, and wins at most once. Each draw's seed is committed before the draw, so anyone can check the winners.",
                    "for": "referrer",
                },
                {
                    "question": "What if my friend returns the order?",
                    "answer": "A refund or return within the 7 days cancels that referral's rewards.",
                    "for": "referrer",
                },
                {
                    "question": "What do I get?",
                    "answer": "¥20 off your first order of ¥99 or more, plus a free-shipping coupon, when you sign up with your friend's link or code. Both coupons are valid for 7 days after you sign up.",
                    "for": "friend",
                },
                {
                    "question": "How do I use my discount?",
                    "answer": "Sign up with your friend's link or code; we then email you your coupons. Use them at checkout on your first order: the ¥20 off needs an order of ¥99 or more. Both expire 7 days after you sign up.",
                    "for": "friend",
                },
                {
                    "question": "Who counts as a new customer?",
                    "answer": "Someone who has never ordered from us before and signs up within 30 days of opening a friend's link or using their code (the latest one counts).",
                },
            ],
            "zh-hans": [
                {
                    "question": "好友能得到什么？",
                    "answer": "首单满 ¥99 减 ¥20，再送一张免运费券。两张券均在好友通过你的链接或邀请码注册后 7 天内有效。",
                    "for": "referrer",
                },
                {
                    "question": "好友下单后我能得到什么？",
                    "answer": "好友满 ¥99 的首单度过 7 天无理由退货期后，你可以选择一张 ¥25 优惠券（满 ¥129 可用，14 天内有效）或 250 绿色里程；7 天内未选择则默认发放优惠券。你还会获得 300 绿色里程和一张本月抽奖券。",
                    "for": "referrer",
                },
                {
                    "question": "一个月内邀请多位好友有额外奖励吗？",
                    "answer": "一个月内成功邀请 3 位：一张 ¥30 优惠券（满 ¥169 可用）和 200 绿色里程。成功邀请 5 位：一份环保餐具盲盒（随下一单寄出，30 天内无订单则单独寄出），以及一个新品试用名额。",
                    "for": "referrer",
                },
                {
                    "question": "抽奖怎么进行？",
                    "answer": "每张抽奖券参加当月每周五的抽奖和月度大奖抽奖，最多中奖一次。每次抽奖的种子在开奖前公布承诺，任何人都可以核验中奖结果。",
                    "for": "referrer",
                },
                {
                    "question": "好友退货了怎么办？",
                    "answer": "7 天内退款或退货，该推荐的奖励将被取消。",
                    "for": "referrer",
                },
                {
                    "question": "我能得到什么？",
                    "answer": "通过好友的链接或邀请码注册，首单满 ¥99 减 ¥20，再送一张免运费券。两张券均在注册后 7 天内有效。",
                    "for": "friend",
                },
                {
                    "question": "怎么使用我的优惠？",
                    "answer": "通过好友的链接或邀请码注册后，我们会通过邮件把券发给你。首单结账时使用：满 ¥99 才可减 ¥20。两张券均在注册 7 天后过期。",
                    "for": "friend",
                },
                {
                    "question": "谁算新顾客？",
                    "answer": "从未在我们这里下过单，且在打开好友的链接或使用其邀请码后 30 天内注册的用户（以最后一次为准）。",
                },
            ],
        },
        "terms": {
            "en": "Who can refer: members with at least one valid order, a verified phone and no serious returns or risk record in the last 12 months.\n\nWho counts as a new friend: someone who has never ordered before. A phone, device, shipping address or payment method already used by one of our customers does not count as new, and such a referral earns no reward.\n\nWhen a referral counts: your friend signs up within 30 days of using your link, code or QR code (the latest one counts), places a first order of ¥99 or more and keeps it for 7 days. A refund or return within those 7 days cancels it.\n\nLimits: at most 10 successful referrals per calendar month are rewarded. Green miles expire 6 months after they are credited. Each coupon is valid for the days shown on it.\n\nReferrals are checked for fraud: self-referrals and fake accounts are rejected and earn nothing.",
            "zh-hans": "谁可以推荐：至少有一笔有效订单、已验证手机号，且近 12 个月内无严重退货或风险记录的会员。\n\n谁算新朋友：从未下过单的用户。手机号、设备、收货地址或支付方式已被我们的顾客使用过的，不算新用户，此类推荐不获得奖励。\n\n推荐何时生效：好友在使用你的链接、邀请码或二维码后 30 天内注册（以最后一次为准），首单满 ¥99 且 7 天内未退货。7 天内退款或退货则推荐取消。\n\n上限：每个自然月最多奖励 10 次成功推荐。绿色里程自发放起 6 个月后过期。每张优惠券的有效期以券面为准。\n\n所有推荐都会经过反作弊审核：自我推荐和虚假账号将被拒绝，不获得任何奖励。",
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
