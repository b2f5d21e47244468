"""Titles, descriptions and units of every field of the program spec. `schema.py` copies them
into the published JSON Schema; the builder's forms use them as labels and help texts, and
translate them at render time (they are marked with `gettext_noop`).

A key is either a field name, or `parent.name` where the same name means something else
under that parent. Units (`x-unit`): `minor` (integer minor units of the program's currency:
5000 = ¥50.00), `days`, `business_days`, `weeks`, `months`, `percent`, `points`, `count`,
`factor`, `date-time`, `key` (a lowercase identifier), `text`, `choice`, `boolean`,
`condition`, `list`, `object`."""

from __future__ import annotations

from django.utils.translation import gettext_noop

FIELDS: dict[str, tuple[str, str, str]] = {
    # The program
    "spec_version": (
        gettext_noop("Spec version"),
        gettext_noop("Format version of this document; always 1."),
        "count",
    ),
    "slug": (
        gettext_noop("Slug"),
        gettext_noop("The program's identifier in URLs, the API and exports."),
        "key",
    ),
    "name": (
        gettext_noop("Name"),
        gettext_noop("The program's name as staff and participants see it."),
        "text",
    ),
    "status": (
        gettext_noop("Status"),
        gettext_noop("draft, active, paused or ended; changed with Activate, Pause and End."),
        "choice",
    ),
    "starts_at": (
        gettext_noop("Starts"),
        gettext_noop("When the program (or this window) starts; events before it pay nothing."),
        "date-time",
    ),
    "ends_at": (
        gettext_noop("Ends"),
        gettext_noop("When it ends (exclusive); empty = open-ended."),
        "date-time",
    ),
    "currency": (
        gettext_noop("Currency"),
        gettext_noop("ISO 4217 code; every money field is in its minor units."),
        "text",
    ),
    "landing_url": (
        gettext_noop("Landing URL"),
        gettext_noop("Where a referral link sends the friend (with ref and click_id appended)."),
        "text",
    ),
    "point_value": (
        gettext_noop("Value of points"),
        gettext_noop("What points cost the program, for cost estimates and KPIs."),
        "object",
    ),
    "point_value.amount": (
        gettext_noop("Money"),
        gettext_noop("Money worth `per_points` points, in minor units."),
        "minor",
    ),
    "per_points": (
        gettext_noop("Per points"),
        gettext_noop("How many points that money buys."),
        "points",
    ),
    "estimates": (
        gettext_noop("Cost assumptions"),
        gettext_noop("What the cost estimate and the simulator assume about coupons."),
        "object",
    ),
    "average_order": (
        gettext_noop("Average order"),
        gettext_noop(
            "A typical order a coupon is used on, in minor units (values percent coupons)."
        ),
        "minor",
    ),
    "coupon_redemption_percent": (
        gettext_noop("Coupons redeemed"),
        gettext_noop("Percent of issued coupons expected to be used (default 100)."),
        "percent",
    ),
    "offer": (
        gettext_noop("Friend's offer"),
        gettext_noop(
            "The offer shown on the invite page, the portal, the widget and the poster. Each "
            'text is one string, or one per language: {"en": …, "zh-hans": …}.'
        ),
        "object",
    ),
    "headline": (
        gettext_noop("Headline"),
        gettext_noop("One line, e.g. “¥20 off your first order”; one string or one per language."),
        "text",
    ),
    "body": (
        gettext_noop("Text"),
        gettext_noop("A few sentences under the headline; one string or one per language."),
        "text",
    ),
    "share_copy": (
        gettext_noop("Share texts"),
        gettext_noop(
            "Pre-written text per share channel (wechat, email, poster …); each one string or "
            "one per language, as the offer."
        ),
        "object",
    ),
    "faq": (
        gettext_noop("FAQ"),
        gettext_noop(
            "The program's questions and answers, shown on the portal and the invite page "
            'instead of the generic ones; a list per language: {"en": [...], "zh-hans": [...]}, '
            "at most 20 each. Each entry is shown to everyone, or only to referrers (portal) or "
            "invited friends (invite page). A reader whose language has none for them sees the "
            "other's."
        ),
        "object",
    ),
    "question": (
        gettext_noop("Question"),
        gettext_noop("As a customer would ask it; at most 300 characters."),
        "text",
    ),
    "answer": (
        gettext_noop("Answer"),
        gettext_noop("Plain text, at most 2000 characters; promise only what the rules pay."),
        "text",
    ),
    "faq.for": (
        gettext_noop("Shown to"),
        gettext_noop(
            "Who reads this question: everyone (the default, on both pages), referrers on "
            "their portal, or invited friends on the invite page."
        ),
        "choice",
    ),
    "terms": (
        gettext_noop("Terms"),
        gettext_noop(
            "The program's terms as plain text per language (a blank line starts a paragraph), "
            'at most 10000 characters each: {"en": …, "zh-hans": …}. Shown on the portal and '
            "the invite page."
        ),
        "object",
    ),
    "budget": (
        gettext_noop("Budget"),
        gettext_noop(
            "Total reward money the program may commit; items beyond it are capped (minor units)."
        ),
        "minor",
    ),
    "referee_discount_cap": (
        gettext_noop("Friend's discount cap"),
        gettext_noop(
            "Most a friend's discounts may add up to, in minor units (the larger discount wins)."
        ),
        "minor",
    ),
    "clawback_days": (
        gettext_noop("Claw back within"),
        gettext_noop(
            "Days after a hold during which a refund still takes a reward back; 0 = never."
        ),
        "days",
    ),
    "first_team_of_company_only": (
        gettext_noop("Only a company's first referred team"),
        gettext_noop(
            "A later friend of a company already referred (same company_id, or the same "
            "company email domain) earns nothing, for either side."
        ),
        "boolean",
    ),
    # Eligibility
    "eligibility": (
        gettext_noop("Eligibility"),
        gettext_noop("Rules a referrer and a friend must pass."),
        "object",
    ),
    "eligibility.referrer": (
        gettext_noop("Referrer rules"),
        gettext_noop(
            "All must pass for referrer-side rewards (checked at enrolment and at each grant)."
        ),
        "list",
    ),
    "eligibility.referee": (
        gettext_noop("Friend rules"),
        gettext_noop("All must pass for the friend to count as new."),
        "list",
    ),
    "label": (
        gettext_noop("Label"),
        gettext_noop("Words shown to people for this rule, stage or window."),
        "text",
    ),
    "when": (
        gettext_noop("Condition"),
        gettext_noop("Applies only when this condition holds; empty = always."),
        "condition",
    ),
    # Conditions
    "field": (
        gettext_noop("Field"),
        gettext_noop(
            "A participant attribute or event property, e.g. referrer.nps or first.purchase.amount_minor."
        ),
        "text",
    ),
    "op": (
        gettext_noop("Test"),
        gettext_noop("How the field is compared with the value."),
        "choice",
    ),
    "value": (
        gettext_noop("Value"),
        gettext_noop("A number, a word, or for “in” a comma-separated list."),
        "text",
    ),
    "segment": (
        gettext_noop("Segment"),
        gettext_noop("A segment name the participant belongs to."),
        "text",
    ),
    "of": (
        gettext_noop("Of"),
        gettext_noop("Whose segment: the referrer's or the friend's."),
        "choice",
    ),
    "all": (gettext_noop("All of"), gettext_noop("Every one of these conditions."), "list"),
    "any": (gettext_noop("Any of"), gettext_noop("At least one of these conditions."), "list"),
    "not": (gettext_noop("Not"), gettext_noop("The opposite of this condition."), "condition"),
    # Attribution
    "attribution": (
        gettext_noop("Attribution"),
        gettext_noop("Which referrer a friend counts for."),
        "object",
    ),
    "window_days": (
        gettext_noop("Window"),
        gettext_noop("Days a touch (click, scan, code) counts before the sign-up."),
        "days",
    ),
    "model": (
        gettext_noop("Model"),
        gettext_noop("Between touches of equal rank, the first or the last one wins."),
        "choice",
    ),
    "priority": (
        gettext_noop("Priority"),
        gettext_noop(
            "Sources strongest first, e.g. link, qr/code, claim, identity (a slash makes equal rank)."
        ),
        "list",
    ),
    "assist_window_days": (
        gettext_noop("Assist window"),
        gettext_noop("Days within which other referrers' touches are credited as assists."),
        "days",
    ),
    "claim_after_order": (
        gettext_noop("Claim after order"),
        gettext_noop("Whether a friend may name their referrer after ordering."),
        "boolean",
    ),
    # Stages
    "stages": (
        gettext_noop("Stages"),
        gettext_noop("What the friend does, in order, and what each step earns."),
        "list",
    ),
    "key": (
        gettext_noop("Key"),
        gettext_noop("A unique identifier (lowercase letters, digits, - and _)."),
        "key",
    ),
    "stages.status": (
        gettext_noop("Referral status"),
        gettext_noop("The referral's status once this stage is reached; none keeps it."),
        "choice",
    ),
    "success": (
        gettext_noop("The success"),
        gettext_noop("This stage is the success that caps, tiers and leaderboards count."),
        "boolean",
    ),
    "condition": (
        gettext_noop("When it is reached"),
        gettext_noop("The event that reaches this stage."),
        "object",
    ),
    "event": (
        gettext_noop("Event"),
        gettext_noop("The event type that reaches the stage."),
        "choice",
    ),
    "min_amount": (
        gettext_noop("Minimum amount"),
        gettext_noop("The event's amount must be at least this (minor units)."),
        "minor",
    ),
    "properties": (
        gettext_noop("Event properties"),
        gettext_noop("A condition on the event's properties."),
        "condition",
    ),
    "count": (gettext_noop("Times"), gettext_noop("How many such events are needed."), "count"),
    "within_days_of_signup": (
        gettext_noop("Within days of sign-up"),
        gettext_noop("Counts only this many days after the sign-up."),
        "days",
    ),
    "after_stage": (
        gettext_noop("After stage"),
        gettext_noop("Counts only after this earlier stage."),
        "key",
    ),
    "within_days_of_stage": (
        gettext_noop("Within days of that stage"),
        gettext_noop("Counts only this many days after that stage."),
        "days",
    ),
    "expected_business_days": (
        gettext_noop("Expected within"),
        gettext_noop(
            "Business days the tenant usually needs to report it (shown as an expected date)."
        ),
        "business_days",
    ),
    "hold": (
        gettext_noop("Hold"),
        gettext_noop("Rewards wait this long; a refund inside it takes them back."),
        "object",
    ),
    "days": (gettext_noop("Days"), gettext_noop("Calendar days (exact 24-hour days)."), "days"),
    "business_days": (
        gettext_noop("Business days"),
        gettext_noop("Business days of the tenant's calendar."),
        "business_days",
    ),
    "anchor": (
        gettext_noop("Counted from"),
        gettext_noop("event, signup, or stage:<key>."),
        "text",
    ),
    "reverse_on": (
        gettext_noop("Reversed by"),
        gettext_noop("Events that take the stage's rewards back inside the hold."),
        "list",
    ),
    "rewards": (
        gettext_noop("Rewards"),
        gettext_noop("The items given; each item is one reward row."),
        "list",
    ),
    # Reward items and options
    "side": (
        gettext_noop("Who gets it"),
        gettext_noop("The referrer or the friend (referee)."),
        "choice",
    ),
    "kind": (
        gettext_noop("Kind"),
        gettext_noop("cash, coupon, points, credit (free time), perk, lottery ticket or donation."),
        "choice",
    ),
    "description": (
        gettext_noop("Description"),
        gettext_noop("What people read about this reward."),
        "text",
    ),
    "amount": (
        gettext_noop("Amount"),
        gettext_noop("Money, in minor units of the program's currency."),
        "minor",
    ),
    "points": (
        gettext_noop("Points or tickets"),
        gettext_noop("How many points (or lottery tickets)."),
        "points",
    ),
    "percent_off": (
        gettext_noop("Percent off"),
        gettext_noop("A coupon's discount in percent (1–100)."),
        "percent",
    ),
    "max_amount": (
        gettext_noop("Discount cap"),
        gettext_noop("Most a percent coupon takes off (minor units)."),
        "minor",
    ),
    "min_spend": (
        gettext_noop("Minimum spend"),
        gettext_noop("The order must be at least this to use the coupon (minor units)."),
        "minor",
    ),
    "valid_days": (
        gettext_noop("Valid for"),
        gettext_noop("Days the reward can be used after it is issued."),
        "days",
    ),
    "duration_days": (
        gettext_noop("Duration"),
        gettext_noop("Days of free time a credit gives."),
        "days",
    ),
    "estimated_value": (
        gettext_noop("Estimated value"),
        gettext_noop("What a perk or credit costs the program, for estimates (minor units)."),
        "minor",
    ),
    "options": (
        gettext_noop("Choices"),
        gettext_noop("Alternatives the beneficiary (or the checkout) chooses from."),
        "list",
    ),
    "default_option": (
        gettext_noop("Default choice"),
        gettext_noop("The option key used when nobody chooses."),
        "key",
    ),
    "choice_days": (
        gettext_noop("Days to choose"),
        gettext_noop("Days after the due date to choose before the default applies."),
        "days",
    ),
    "choice_by": (
        gettext_noop("Chosen by"),
        gettext_noop("The beneficiary in the portal, or the friend at checkout."),
        "choice",
    ),
    # Tiers
    "tiers": (
        gettext_noop("Tiers and ladders"),
        gettext_noop("Rewards for reaching a number of successes in a period."),
        "list",
    ),
    "threshold": (
        gettext_noop("Threshold"),
        gettext_noop("How many counted referrals reach the tier."),
        "count",
    ),
    "counts": (
        gettext_noop("Counts"),
        gettext_noop("success, or stage:<key> to count another stage."),
        "text",
    ),
    "period": (
        gettext_noop("Period"),
        gettext_noop("The calendar period the count (or cap) runs over."),
        "choice",
    ),
    # Season
    "season": (
        gettext_noop("Season and leaderboard"),
        gettext_noop("Prizes for the top referrers of each period."),
        "object",
    ),
    "metric": (gettext_noop("Ranked by"), gettext_noop("success, or stage:<key>."), "text"),
    "min_successes": (
        gettext_noop("Minimum successes"),
        gettext_noop("Fewer successes than this win no prize."),
        "count",
    ),
    "prizes": (gettext_noop("Prizes"), gettext_noop("One prize per rank (or per draw)."), "list"),
    "rank": (gettext_noop("Rank"), gettext_noop("Leaderboard position, 1 = first."), "count"),
    "reward": (gettext_noop("Reward"), gettext_noop("The item given."), "object"),
    # Caps
    "caps": (gettext_noop("Caps"), gettext_noop("Limits per referrer and period."), "list"),
    "measure": (
        gettext_noop("Measure"),
        gettext_noop("Count referrals, or add up money."),
        "choice",
    ),
    "limit": (
        gettext_noop("Limit"),
        gettext_noop("Referrals per period, or money in minor units when the measure is amount."),
        "count|minor",
    ),
    "items": (
        gettext_noop("Reward keys"),
        gettext_noop("The reward keys this applies to, comma-separated."),
        "list",
    ),
    "overflow": (
        gettext_noop("Beyond the cap"),
        gettext_noop("Nothing, or an honour item instead."),
        "choice",
    ),
    "honor": (
        gettext_noop("Honour item"),
        gettext_noop("What a capped success earns instead."),
        "object",
    ),
    # Boosts
    "boosts": (
        gettext_noop("Boosts"),
        gettext_noop("Windows that raise or replace rewards."),
        "list",
    ),
    "every_year": (
        gettext_noop("Every year"),
        gettext_noop("A month or an ISO week that repeats every year."),
        "object",
    ),
    "month": (gettext_noop("Month"), gettext_noop("1 = January … 12 = December."), "count"),
    "iso_week": (
        gettext_noop("ISO week"),
        gettext_noop("Week number 1–53 (weeks start on Monday)."),
        "count",
    ),
    "first_days": (
        gettext_noop("Program's first days"),
        gettext_noop("The boost runs for this many days from the program's start."),
        "days",
    ),
    "applies_to": (
        gettext_noop("Applies to"),
        gettext_noop("The listed items, or ladder progress."),
        "choice",
    ),
    "mode": (
        gettext_noop("Mode"),
        gettext_noop("Multiply the quantity, or replace values."),
        "choice",
    ),
    "factor": (gettext_noop("Factor"), gettext_noop("2 = double."), "factor"),
    "set": (
        gettext_noop("Values set"),
        gettext_noop("The values that replace the item's."),
        "object",
    ),
    "options_set": (
        gettext_noop("Option values set"),
        gettext_noop("Per option key, the values that replace the option's."),
        "object",
    ),
    "per_referrer_limit": (
        gettext_noop("Per-referrer limit"),
        gettext_noop("Most extra money a referrer can get from this boost (minor units)."),
        "minor",
    ),
    # Bonuses
    "segment_bonuses": (
        gettext_noop("Segment bonuses"),
        gettext_noop("Extra items on a success when a condition holds."),
        "list",
    ),
    "first_success_only": (
        gettext_noop("First success only"),
        gettext_noop("Only on the referrer's first success."),
        "boolean",
    ),
    "surprise": (
        gettext_noop("Surprise bonus"),
        gettext_noop("A hidden bonus with a chance on each success."),
        "object",
    ),
    "probability_percent": (
        gettext_noop("Chance"),
        gettext_noop("Percent chance on each success."),
        "percent",
    ),
    "charity": (
        gettext_noop("Charity matching"),
        gettext_noop("A donation for every success."),
        "object",
    ),
    "charity.amount": (
        gettext_noop("Donation"),
        gettext_noop("Money donated per success (minor units)."),
        "minor",
    ),
    "certificate": (
        gettext_noop("Certificate"),
        gettext_noop("Donors can download an e-certificate."),
        "boolean",
    ),
    # Team
    "team": (
        gettext_noop("Team enrolment"),
        gettext_noop("Friends who pay together as a team each get more."),
        "object",
    ),
    "property": (
        gettext_noop("Team code property"),
        gettext_noop("The purchase property carrying the team code (default team_code)."),
        "text",
    ),
    "min_members": (
        gettext_noop("Minimum members"),
        gettext_noop("Paying members needed for a team."),
        "count",
    ),
    "max_members": (
        gettext_noop("Maximum members"),
        gettext_noop("Most members counted in a team."),
        "count",
    ),
    "within_days": (
        gettext_noop("Within days"),
        gettext_noop("Days from the first payment for the team to complete."),
        "days",
    ),
    "member_reward": (
        gettext_noop("Member reward"),
        gettext_noop("What each member gets."),
        "object",
    ),
    "member_reward_long": (
        gettext_noop("Member reward, long course"),
        gettext_noop("What each member gets on a long course instead."),
        "object",
    ),
    "long_course_weeks": (
        gettext_noop("Long course from"),
        gettext_noop("Course weeks from which the long-course reward applies."),
        "weeks",
    ),
    "leader_reward": (
        gettext_noop("Leader reward"),
        gettext_noop("What the team's leader gets."),
        "object",
    ),
    # Points
    "points.name": (
        gettext_noop("Points name"),
        gettext_noop("What the points are called, e.g. green miles."),
        "text",
    ),
    "expiry_months": (
        gettext_noop("Expire after"),
        gettext_noop("Months after which points expire; 0 = never."),
        "months",
    ),
    "catalogue": (
        gettext_noop("Catalogue"),
        gettext_noop("What points can be redeemed for."),
        "list",
    ),
    "catalogue.points": (
        gettext_noop("Price in points"),
        gettext_noop("Points the item costs."),
        "points",
    ),
    "(root).points": (
        gettext_noop("Points and catalogue"),
        gettext_noop("The points currency and what it buys."),
        "object",
    ),
    # Lottery
    "lottery": (
        gettext_noop("Lottery"),
        gettext_noop("Draws among the tickets participants earned."),
        "object",
    ),
    "ticket_valid": (
        gettext_noop("Tickets valid for"),
        gettext_noop("The period a ticket takes part in draws."),
        "choice",
    ),
    "draws": (
        gettext_noop("Draws"),
        gettext_noop("Weekly or monthly draws and their prizes."),
        "list",
    ),
    "schedule": (gettext_noop("Schedule"), gettext_noop("Weekly or monthly."), "choice"),
    "weekday": (
        gettext_noop("Weekday"),
        gettext_noop("Day of a weekly draw: 0 = Monday … 6 = Sunday (default Friday)."),
        "count",
    ),
    "prizes.count": (
        gettext_noop("Winners"),
        gettext_noop("How many of this prize each draw gives."),
        "count",
    ),
    # Ambassador
    "ambassador": (
        gettext_noop("Ambassador status"),
        gettext_noop("A status for referrers who bring many retained friends."),
        "object",
    ),
    "min_referrals": (
        gettext_noop("Minimum referrals"),
        gettext_noop("Referrals needed."),
        "count",
    ),
    "min_retained_percent": (
        gettext_noop("Minimum retained"),
        gettext_noop("Percent of them that must be retained."),
        "percent",
    ),
    # Experiments
    "experiments": (
        gettext_noop("Experiments"),
        gettext_noop("A/B tests of the referrer's or the friend's side."),
        "list",
    ),
    "experiments.side": (
        gettext_noop("Side tested"),
        gettext_noop("Referrers (assigned at enrolment) or friends (at first touch)."),
        "choice",
    ),
    "variants": (
        gettext_noop("Variants"),
        gettext_noop("At least two; each participant gets one, stably."),
        "list",
    ),
    "weight": (gettext_noop("Weight"), gettext_noop("Relative share of participants."), "count"),
    "overrides": (
        gettext_noop("Overrides"),
        gettext_noop("Spec fields this variant changes (advanced, JSON)."),
        "object",
    ),
    # The holdout
    "holdout": (
        gettext_noop("Holdout"),
        gettext_noop(
            "A share of participants kept out of the program to measure what it adds: they get "
            "no link, offer, widget or reward, and the analytics page compares them with the others."
        ),
        "object",
    ),
    "holdout.percent": (
        gettext_noop("Share held out"),
        gettext_noop("Percent of participants held out, at most 50, e.g. 10; 0 holds nobody out."),
        "percent",
    ),
    "holdout.seed": (
        gettext_noop("Seed"),
        gettext_noop(
            "Any text; who is held out depends on it. Keep it to keep the same people held out; "
            "empty = the program's own."
        ),
        "text",
    ),
}


def doc_for(parent: str, name: str) -> tuple[str, str, str] | None:
    return FIELDS.get(f"{parent}.{name}") or FIELDS.get(name)
