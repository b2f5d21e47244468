"""SCENARIOS.md C — online language school: two stages, yearly ladder, charity, teams, pilot."""

from __future__ import annotations

from datetime import date

from ._common import ambassador, at, month_end, not_a_customer_yet, window


def study_together_spec(year: int = 2026) -> dict:
    peaks = [("feb_start", 2, 2), ("june_release", 6, 6), ("summer_intensive", 7, 8),
             ("september_term", 9, 9), ("december_certificates", 12, 12)]  # fmt: skip
    return {
        "spec_version": 1,
        "slug": "study-together",
        "name": "Study together",
        "status": "active",
        "starts_at": at(date(year, 1, 1)),
        "ends_at": None,
        "currency": "CNY",
        "landing_url": "https://school.example.com/join",
        # What the estimator and the simulator assume about coupons.
        "estimates": {"average_order": 240000, "coupon_redemption_percent": 80},
        # The copy in each language the pages speak (programs.copy reads it).
        "offer": {
            "headline": {
                "en": "A 3-lesson trial pack and ¥300 off your first course",
                "zh-hans": "3 节体验课，首门课程立减 ¥300",
            },
            "body": {
                "en": "Enrol with a friend's code; team up with 2–4 friends for more.",
                "zh-hans": "用好友的邀请码报名；和 2–4 位好友组队报名，优惠更多。",
            },
        },
        "share_copy": {
            "wechat": {
                "en": "Learning with this school — join me: 3 trial lessons and ¥300 off.",
                "zh-hans": "我在这里学习，一起来吧：3 节体验课，首门课程立减 ¥300。",
            },
            "sms": {
                "en": "3 free trial lessons + ¥300 off with my code.",
                "zh-hans": "用我的邀请码：3 节免费体验课 + 立减 ¥300。",
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
                    "answer": "A 3-lesson trial pack and ¥300 off their first course when they sign up with your link or code.",
                    "for": "referrer",
                },
                {
                    "question": "What do I earn?",
                    "answer": "¥100 in study fund when your friend has attended 2 trial lessons. When your friend pays for a course of 12 weeks or more (¥1,800 or more) and keeps it for 7 days: ¥300 more in study fund or a 1-on-1 speaking diagnosis, your choice within 14 days. Study funds are valid for 60 days.",
                    "for": "referrer",
                },
                {
                    "question": "What is the yearly ladder?",
                    "answer": "In each calendar year, 1 successful referral brings a teacher's speaking diagnosis; 3 bring a premium-course upgrade voucher or 2 more weeks of access (valid 30 days); 5 bring a small-class seat or an exam mock-camp pass, plus a charity certificate. In the February, June, July–August, September and December windows, each referral counts double on the ladder.",
                    "for": "referrer",
                },
                {
                    "question": "What is the charity match?",
                    "answer": "The school donates ¥50 for each successful referral, and you receive an e-certificate.",
                    "for": "referrer",
                },
                {
                    "question": "Can we enrol as a team?",
                    "answer": "Yes: 2 to 4 friends who enrol with a team code and all pay within 7 days each get ¥300 off (¥400 on courses of 24 weeks or more). The larger of the team and friend discounts applies, never both. The team leader gets ¥200 in study fund or a mock interview.",
                },
                {
                    "question": "What do I get?",
                    "answer": "A 3-lesson trial pack and ¥300 off your first course, when you sign up with your friend's link or code.",
                    "for": "friend",
                },
                {
                    "question": "How do I use my discount?",
                    "answer": "Sign up with your friend's link or code within 30 days of opening it: the trial pack and the ¥300 discount are then yours, and we email them to you. The ¥300 comes off when you pay for your first course. If you also enrol as a team, you get the larger of the two discounts, not both.",
                    "for": "friend",
                },
                {
                    "question": "Who can be referred?",
                    "answer": "Someone buying from us for the first time, who signs up within 30 days of opening a friend's link or using their code (the latest one counts).",
                },
            ],
            "zh-hans": [
                {
                    "question": "好友能得到什么？",
                    "answer": "好友通过你的链接或邀请码注册，可获得 3 节体验课，首门课程立减 ¥300。",
                    "for": "referrer",
                },
                {
                    "question": "我能获得什么？",
                    "answer": "好友上完 2 节体验课，你获得 ¥100 学习基金。好友购买 12 周及以上（¥1,800 及以上）的课程并保留 7 天后，你再获得 ¥300 学习基金或一次一对一口语诊断，14 天内任选其一。学习基金 60 天内有效。",
                    "for": "referrer",
                },
                {
                    "question": "年度阶梯奖励是什么？",
                    "answer": "每个自然年内：成功推荐 1 位，获得一次老师口语诊断；3 位，获得精品课升级券或延长 2 周学习权限（30 天内有效）；5 位，获得一个小班课名额或一张考试模考营通行证，另加一份公益证书。在 2 月、6 月、7–8 月、9 月和 12 月的活动期内，每次推荐在阶梯上按双倍计算。",
                    "for": "referrer",
                },
                {
                    "question": "公益配捐是什么？",
                    "answer": "每成功推荐一位好友，学校捐出 ¥50，你会收到一份电子证书。",
                    "for": "referrer",
                },
                {
                    "question": "可以组队报名吗？",
                    "answer": "可以：2–4 位好友使用同一个团队码报名，并在 7 天内全部付款，每人立减 ¥300（24 周及以上课程立减 ¥400）。团队优惠与好友优惠取较高者，不可叠加。队长可获得 ¥200 学习基金或一次模拟面试。",
                },
                {
                    "question": "我能得到什么？",
                    "answer": "通过好友的链接或邀请码注册，可获得 3 节体验课，首门课程立减 ¥300。",
                    "for": "friend",
                },
                {
                    "question": "怎么使用我的优惠？",
                    "answer": "在打开好友的链接或使用其邀请码后 30 天内注册：体验课和 ¥300 优惠即归你所有，我们会通过邮件发给你。购买首门课程付款时立减 ¥300。若你同时组队报名，团队优惠与好友优惠取较高者，不可叠加。",
                    "for": "friend",
                },
                {
                    "question": "谁可以被推荐？",
                    "answer": "首次在我们这里购买，且在打开好友的链接或使用其邀请码后 30 天内注册的用户（以最后一次为准）。",
                },
            ],
        },
        "terms": {
            "en": "Who can refer: students with at least 2 weeks of study or a passed stage test, graduates, and active community members who rate us 8 or more. Not while a refund is in progress, nor after a violation.\n\nWho can be referred: someone buying from us for the first time.\n\nWhen a referral counts: your friend signs up within 30 days of using your link or code (the latest one counts), pays for a course of 12 weeks or more (¥1,800 or more) and keeps it for 7 days. A refund or a class transfer within those 7 days cancels it.\n\nLimits: at most 10 successful referrals per calendar month are rewarded. Study funds are valid for 60 days from when they are granted.\n\nReferrals are checked for fraud: referrals found to be fake are rejected and earn nothing.",
            "zh-hans": "谁可以推荐：学习满 2 周或通过阶段测试的学员、毕业学员，以及评分 8 分及以上的活跃社群成员。退款处理中或有违规记录的除外。\n\n谁可以被推荐：首次在我们这里购买的用户。\n\n推荐何时生效：好友在使用你的链接或邀请码后 30 天内注册（以最后一次为准），购买 12 周及以上（¥1,800 及以上）的课程并保留 7 天。7 天内退款或转班则推荐取消。\n\n上限：每个自然月最多奖励 10 次成功推荐。学习基金自发放起 60 天内有效。\n\n所有推荐都会经过反作弊审核：被认定为虚假的推荐将被拒绝，不获得任何奖励。",
        },
        "eligibility": {
            "referrer": [
                {
                    "key": "learner_standing",
                    "label": "≥ 2 weeks of study, a passed stage test, a graduate, or an active community member with NPS ≥ 8",
                    "when": {
                        "any": [
                            {"field": "study_weeks", "op": "gte", "value": 2},
                            {"field": "stage_test_passed", "op": "truthy"},
                            {"field": "graduated", "op": "truthy"},
                            {
                                "all": [
                                    {"segment": "community_active"},
                                    {"field": "nps", "op": "gte", "value": 8},
                                ]
                            },
                        ]
                    },
                },
                {
                    "key": "no_refund_in_progress",
                    "label": "No refund in progress",
                    "when": {"field": "refund_in_progress", "op": "falsy"},
                },
                {
                    "key": "no_violations",
                    "label": "No violations",
                    "when": {"field": "risk_flag", "op": "falsy"},
                },
            ],
            "referee": [
                {"key": "first_purchase", "label": "First purchase", "when": not_a_customer_yet()}
            ],
        },  # fmt: skip
        "attribution": {
            "window_days": 30,
            "model": "last",
            "priority": ["link", ["qr", "code"], "claim", "identity"],
            "assist_window_days": 7,
        },
        "stages": [
            {
                "key": "welcome",
                "label": "Sign-up",
                "status": None,
                "condition": {"event": "signup"},
                "rewards": [
                    {
                        "key": "trial_pack",
                        "side": "referee",
                        "kind": "perk",
                        "description": "3-lesson trial pack",
                    },
                    {
                        "key": "referee_discount",
                        "side": "referee",
                        "kind": "coupon",
                        "amount": 30000,
                        "description": "¥300 off your first course",
                    },
                ],
            },
            {
                "key": "trial",
                "label": "Attended 2 trial lessons",
                "status": "qualified",
                "condition": {
                    "event": "activity",
                    "count": 2,
                    "properties": {"field": "kind", "op": "eq", "value": "trial_lesson_attended"},
                },
                "rewards": [
                    {
                        "key": "trial_fund",
                        "side": "referrer",
                        "kind": "credit",
                        "amount": 10000,
                        "valid_days": 60,
                        "description": "¥100 study fund",
                    },
                ],
            },
            {
                "key": "paid",
                "label": "Course ≥ 12 weeks (≥ ¥1,800) kept 7 days",
                "status": "converted",
                "success": True,
                "condition": {
                    "event": "purchase",
                    "min_amount": 180000,
                    "properties": {"field": "course_weeks", "op": "gte", "value": 12},
                },
                "hold": {"days": 7},
                "reverse_on": [
                    {
                        "event": "activity",
                        "properties": {"field": "kind", "op": "eq", "value": "class_transfer"},
                    },
                ],
                "rewards": [
                    {
                        "key": "success_fund",
                        "side": "referrer",
                        "kind": "credit",
                        "amount": 30000,
                        "valid_days": 60,
                        "description": "¥300 study fund",
                        "options": [
                            {
                                "key": "fund_300",
                                "kind": "credit",
                                "amount": 30000,
                                "valid_days": 60,
                                "description": "¥300 study fund",
                            },
                            {
                                "key": "speaking_diagnosis",
                                "kind": "perk",
                                "description": "1-on-1 speaking diagnosis",
                            },
                        ],
                        "default_option": "fund_300",
                        "choice_by": "beneficiary",
                        "choice_days": 14,
                    },
                ],
            },
        ],  # fmt: skip
        "tiers": [
            {
                "key": "year_1",
                "threshold": 1,
                "period": "year",
                "rewards": [
                    {
                        "key": "year_1_diagnosis",
                        "side": "referrer",
                        "kind": "perk",
                        "description": "A teacher's speaking diagnosis",
                    }
                ],
            },
            {
                "key": "year_3",
                "threshold": 3,
                "period": "year",
                "rewards": [
                    {
                        "key": "year_3_reward",
                        "side": "referrer",
                        "kind": "coupon",
                        "valid_days": 30,
                        "description": "Premium-course upgrade voucher",
                        "options": [
                            {
                                "key": "upgrade_voucher",
                                "kind": "perk",
                                "valid_days": 30,
                                "description": "Premium-course upgrade voucher",
                            },
                            {
                                "key": "extra_weeks",
                                "kind": "credit",
                                "duration_days": 14,
                                "valid_days": 30,
                                "description": "+2 weeks of access",
                            },
                        ],
                        "default_option": "upgrade_voucher",
                        "choice_days": 14,
                    }
                ],
            },
            {
                "key": "year_5",
                "threshold": 5,
                "period": "year",
                "rewards": [
                    {
                        "key": "year_5_reward",
                        "side": "referrer",
                        "kind": "perk",
                        "description": "A small-class seat",
                        "options": [
                            {
                                "key": "small_class",
                                "kind": "perk",
                                "description": "A small-class seat",
                            },
                            {
                                "key": "mock_camp",
                                "kind": "perk",
                                "description": "An exam mock-camp pass",
                            },
                        ],
                        "default_option": "small_class",
                        "choice_days": 14,
                    },
                    {
                        "key": "year_5_certificate",
                        "side": "referrer",
                        "kind": "perk",
                        "description": "Charity certificate",
                    },
                ],
            },
        ],  # fmt: skip
        "season": {"period": "month", "metric": "success", "min_successes": 1, "prizes": []},
        "caps": [
            {
                "key": "monthly_successes",
                "period": "month",
                "measure": "count",
                "limit": 10,
                "overflow": "nothing",
            }
        ],  # fmt: skip
        "charity": {
            "key": "charity_match",
            "amount": 5000,
            "certificate": True,
            "description": "The school donates ¥50 for your referral",
        },  # fmt: skip
        "team": {
            "property": "team_code",
            "min_members": 2,
            "max_members": 4,
            "within_days": 7,
            "long_course_weeks": 24,
            "member_reward": {
                "key": "team_discount",
                "kind": "coupon",
                "amount": 30000,
                "description": "Team: ¥300 off",
            },
            "member_reward_long": {
                "key": "team_discount_long",
                "kind": "coupon",
                "amount": 40000,
                "description": "Team: ¥400 off (courses ≥ 24 weeks)",
            },
            "leader_reward": {
                "key": "team_leader",
                "kind": "credit",
                "amount": 20000,
                "valid_days": 60,
                "description": "¥200 study fund",
                "options": [
                    {
                        "key": "fund_200",
                        "kind": "credit",
                        "amount": 20000,
                        "valid_days": 60,
                        "description": "¥200 study fund",
                    },
                    {"key": "mock_interview", "kind": "perk", "description": "A mock interview"},
                ],
                "default_option": "fund_200",
                "choice_days": 14,
            },
        },  # fmt: skip
        "boosts": [
            {
                "key": "south_china_pilot",
                "label": "South China pilot: double ladder progress",
                **window(date(year, 5, 1), date(year, 8, 31)),
                "applies_to": "ladder",
                "mode": "multiply",
                "factor": 2,
                "when": {"field": "referrer.region", "op": "eq", "value": "south-china"},
                "per_referrer_limit": 50000,
            },
            *[
                {
                    "key": key,
                    "label": "Peak window: double ladder progress",
                    **window(date(year, m1, 1), month_end(year, m2)),
                    "applies_to": "ladder",
                    "mode": "multiply",
                    "factor": 2,
                }
                for key, m1, m2 in peaks
            ],
        ],  # fmt: skip
        "ambassador": ambassador("school_ambassador"),
        "clawback_days": 0,
    }
