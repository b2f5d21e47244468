"""Fraud signals and scoring: pure functions over plain facts, no I/O.

Each signal looks at `AssessmentFacts` and returns a `Signal` (its default weight and a
reason a reviewer can read) or None. `score()` applies a policy's weights, thresholds and
forced decisions. `fraud.facts` gathers the facts from the database; nothing here does.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from django.utils import translation
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext_lazy

APPROVE, REVIEW, REJECT = "approve", "review", "reject"
_SEVERITY = {APPROVE: 0, REVIEW: 1, REJECT: 2}

# Identifier kinds, in the order a reviewer reads them.
SELF_KINDS = ("email", "phone", "device", "payment", "address", "ip", "ip24")


@dataclass(frozen=True)
class Identity:
    """One participant's identifiers, each a set of keyed hashes (`fraud.identity`)."""

    email: frozenset[str] = frozenset()
    phone: frozenset[str] = frozenset()
    device: frozenset[str] = frozenset()
    payment: frozenset[str] = frozenset()
    address: frozenset[str] = frozenset()
    ip: frozenset[str] = frozenset()
    ip24: frozenset[str] = frozenset()
    email_domain: str = ""
    company_id: str = ""
    # `browser`, `headless`, `preview` per request seen.
    ua_classes: tuple[str, ...] = ()
    # How many requests (events and the click) came from each IP token.
    ip_seen: Mapping[str, int] = field(default_factory=dict)

    def tokens(self) -> dict[str, frozenset[str]]:
        return {kind: getattr(self, kind) for kind in SELF_KINDS}


@dataclass(frozen=True)
class AssessmentFacts:
    stage_key: str
    referrer: Identity
    referee: Identity
    referee_email_disposable: bool = False
    # The referee's domain is a free-mail or throwaway provider (no company signal).
    referee_domain_is_free_mail: bool = True
    click_to_signup_seconds: float | None = None
    signup_to_purchase_seconds: float | None = None
    # Other referees of the same referrer, inside the velocity window, sharing this
    # referee's identifier of each kind: {"ip": 3, "device": 0, "address": 1}.
    velocity: Mapping[str, int] = field(default_factory=dict)
    # The referrer's sign-ups in the hour up to this one (this one included), and their
    # usual count per active hour before it.
    signups_last_hour: int = 1
    signups_per_active_hour: float = 0.0
    # Referees of this referrer who purchased / refunded, and the program's refund rate.
    referrer_purchases: int = 0
    referrer_refunds: int = 0
    program_refund_rate: float = 0.0
    refund_after_reward_days: float | None = None
    # The refund being assessed fell inside the hold of a stage the referral had reached.
    refund_inside_hold: bool = False
    # The referral's rewards not released yet (None: unknown).
    unreleased_rewards: int | None = None
    blocklisted: tuple[str, ...] = ()  # identifier kinds on the tenant's blocklist
    ring_kinds: tuple[str, ...] = ()  # kinds shared with a past rejected referral
    # Referees of *other* referrers who paid with this referee's payment instrument.
    payment_shared_with: int = 0
    code_leaked: bool = False
    # Participants outside this referrer's circle (the referrer and their referees) seen on
    # the IP address the referee shares with the referrer: many means a carrier's CGNAT, an
    # office or a café, not the referrer's home.
    shared_ip_others: int = 0
    # The most sign-ups of this referrer in any 7 days around this one (this one included),
    # and their usual count per active week before.
    signups_week: int = 1
    signups_per_active_week: float = 0.0
    # The shortest time between two of those sign-ups, in hours.
    signups_week_closest_hours: float = 0.0
    # Other referees of this referrer sharing this referee's identifier of each strong kind,
    # at any time: {"email": 1, "payment": 0}.
    duplicates: Mapping[str, int] = field(default_factory=dict)


# Why each signal fired, as a reviewer reads it; `params` fill the placeholders. Kept by
# code so a stored signal is shown in the reader's language, not the worker's.
REASONS = {
    "same_email": _("The referee's email is the referrer's own (after normalisation)."),
    "same_phone": _("The referee uses the referrer's phone number."),
    "same_device": _("The referee signed up from the referrer's device."),
    "same_payment": _(
        "The referee paid with the referrer's payment instrument: not a new customer."
    ),
    "same_address": _("The referee ships to the referrer's address."),
    "same_ip": _("The referee used the referrer's IP address."),
    "same_ip24": _("The referee's IP is in the referrer's /24 network."),
    "referrer_ip": ngettext_lazy(
        "The referee was seen %(n)s time, only ever on the referrer's own IP address, "
        "which no one else uses.",
        "The referee was seen %(n)s times, only ever on the referrer's own IP address, "
        "which no one else uses.",
        "n",
    ),
    "public_ip": ngettext_lazy(
        "The referee used the referrer's IP address, shared with %(n)s other customer "
        "(a carrier, office or café network).",
        "The referee used the referrer's IP address, shared with %(n)s other customers "
        "(a carrier, office or café network).",
        "n",
    ),
    "household": _(
        "The referee lives with the referrer (same address and home network) but has their own "
        "email, phone, device and payment instrument."
    ),
    "same_company": _("The referee belongs to the referrer's company: not a new customer."),
    "same_domain": _("Possibly the same company: both use the email domain %(domain)s."),
    "disposable_email": _("The referee's email is at a throwaway email provider."),
    "velocity": ngettext_lazy(
        "%(count)s other referee of this referrer shares this %(kind)s within a week.",
        "%(count)s other referees of this referrer share this %(kind)s within a week.",
        "count",
    ),
    "duplicate_referee": ngettext_lazy(
        "%(count)s other referee of this referrer has the same %(kind)s: one person, "
        "referred again.",
        "%(count)s other referees of this referrer have the same %(kind)s: one person, "
        "referred again.",
        "count",
    ),
    "burst": ngettext_lazy(
        "%(count)s sign-up for this referrer within an hour (usually %(usual)s).",
        "%(count)s sign-ups for this referrer within an hour (usually %(usual)s).",
        "count",
    ),
    "burst_days": ngettext_lazy(
        "%(count)s sign-up for this referrer within a week (usually %(usual)s).",
        "%(count)s sign-ups for this referrer within a week (usually %(usual)s).",
        "count",
    ),
    "fast_signup": ngettext_lazy(
        "Signed up %(s)s second after opening the link.",
        "Signed up %(s)s seconds after opening the link.",
        "s",
    ),
    "fast_purchase": ngettext_lazy(
        "Paid %(s)s second after signing up.",
        "Paid %(s)s seconds after signing up.",
        "s",
    ),
    "headless_agent": _("The referee's requests came from a headless browser."),
    "preview_agent": _("Only link-preview bots or crawlers were seen for the referee."),
    "refund_anomaly": _("%(pct)s%% of this referrer's referees refunded (program: %(avg)s%%)."),
    "refund_after_reward": ngettext_lazy(
        "The referee refunded %(d)s day after the reward's hold ended.",
        "The referee refunded %(d)s days after the reward's hold ended.",
        "d",
    ),
    "blocklisted": _("On this workspace's blocklist: %(kinds)s."),
    "ring": _("Shares %(kinds)s with a previously rejected referral."),
    "payment_reuse": ngettext_lazy(
        "Paid with a payment instrument %(n)s other referred customer also used.",
        "Paid with a payment instrument %(n)s other referred customers also used.",
        "n",
    ),
    "leaked_code": _("The referral code is flagged as leaked (used far beyond its owner's reach)."),
    "assessment_failed": _("The fraud assessment could not run; held for a person to check."),
    "attribution_review": _("Attribution needs a person: %(why)s"),
}

# Identifier kinds as a reason names them, in the reader's language.
KIND_NAMES = {
    "email": _("email"),
    "phone": _("phone"),
    "device": _("device"),
    "payment": _("payment instrument"),
    "address": _("address"),
    "ip": _("IP address"),
    "ip24": _("IP network"),
    "domain": _("email domain"),
    "referee": _("referee"),
}


def _kinds_text(value) -> str:
    names = [str(KIND_NAMES.get(k.strip(), k.strip())) for k in str(value).split(",") if k.strip()]
    return ", ".join(names)


def _render(template, params: Mapping) -> str:
    """`template` filled with `params`, plural forms chosen by their count; identifier kinds
    are named in the active language."""
    if not params:
        return str(template)
    values = dict(params)
    for key in ("kind", "kinds"):
        if key in values:
            values[key] = _kinds_text(values[key])
    # A lazy plural picks its form from the count inside `%`, so no str() before it.
    return str(template % values)


# Each signal's short name for filters, tables and the policy page; the code stays in a
# title or muted span for ops.
LABELS = {
    "same_email": _("Same email"),
    "same_phone": _("Same phone"),
    "same_device": _("Same device"),
    "same_payment": _("Same payment instrument"),
    "same_address": _("Same address"),
    "same_ip": _("Same IP address"),
    "same_ip24": _("Same /24 network"),
    "referrer_ip": _("The referrer's own IP address"),
    "public_ip": _("Shared public IP address"),
    "household": _("Same household"),
    "same_company": _("Same company"),
    "same_domain": _("Same email domain"),
    "disposable_email": _("Throwaway email"),
    "velocity": _("Identifier shared by several referees"),
    "duplicate_referee": _("Referred twice"),
    "burst": _("Sign-up burst"),
    "burst_days": _("Sign-ups over days"),
    "fast_signup": _("Very fast sign-up"),
    "fast_purchase": _("Very fast purchase"),
    "headless_agent": _("Headless browser"),
    "preview_agent": _("Only preview bots seen"),
    "refund_anomaly": _("Unusual refund rate"),
    "refund_after_reward": _("Refund after the hold"),
    "blocklisted": _("On the blocklist"),
    "ring": _("Linked to a rejected referral"),
    "payment_reuse": _("Payment instrument reused"),
    "leaked_code": _("Leaked code"),
    "assessment_failed": _("Assessment failed"),
    "attribution_review": _("Attribution needs review"),
}


def signal_label(code: str) -> str:
    """A signal's name in the active language; an unknown (retired) code shows as itself."""
    label = LABELS.get(code)
    return str(label) if label is not None else code


@dataclass(frozen=True)
class Signal:
    code: str
    weight: int
    reason: str
    # A decision this signal forces whatever the score (SEMANTICS §3 defaults), or "".
    forces: str = ""
    params: Mapping = field(default_factory=dict)

    def as_dict(self) -> dict:
        # Stored in English for exports and logs; pages re-render it with `reason_text`.
        with translation.override("en"):
            text = _render(self.reason, self.params)
        return {
            "code": self.code,
            "weight": self.weight,
            "reason": text,
            "forces": self.forces,
            "params": dict(self.params),
        }


def reason_text(signal: Mapping) -> str:
    """A stored signal's reason in the active language (falls back to the stored text)."""
    template = REASONS.get(signal.get("code", ""))
    if template is None:
        return str(signal.get("reason", ""))
    params = signal.get("params") or {}
    try:
        return _render(template, params)
    except (KeyError, TypeError, ValueError):
        return str(signal.get("reason", ""))


# --- self-referral ------------------------------------------------------------------


def _shared(facts: AssessmentFacts, kind: str) -> bool:
    return bool(getattr(facts.referrer, kind) & getattr(facts.referee, kind))


def same_email(facts: AssessmentFacts) -> Signal | None:
    if _shared(facts, "email"):
        return Signal("same_email", 100, REASONS["same_email"])
    return None


def same_phone(facts: AssessmentFacts) -> Signal | None:
    if _shared(facts, "phone"):
        return Signal("same_phone", 90, REASONS["same_phone"])
    return None


def same_device(facts: AssessmentFacts) -> Signal | None:
    if _shared(facts, "device"):
        return Signal("same_device", 70, REASONS["same_device"])
    return None


def same_payment(facts: AssessmentFacts) -> Signal | None:
    if _shared(facts, "payment"):
        return Signal(
            "same_payment",
            100,
            REASONS["same_payment"],
            forces=REJECT,
        )
    return None


# Identifiers one person keeps to themselves: someone living with the referrer shares the
# address and the home network, never these.
PERSONAL_KINDS = ("email", "phone", "device", "payment")


def lives_with_referrer(facts: AssessmentFacts) -> bool:
    """Same address, otherwise a person of their own: their own device seen, and once
    something is paid their own payment instrument, none of the referrer's personal
    identifiers. The address and the IP then say "household", not "second account"."""
    referee = facts.referee
    if not _shared(facts, "address") or not referee.device:
        return False
    if any(_shared(facts, kind) for kind in PERSONAL_KINDS):
        return False
    return facts.stage_key == "signup" or bool(referee.payment)


def same_address(facts: AssessmentFacts) -> Signal | None:
    if _shared(facts, "address") and not lives_with_referrer(facts):
        return Signal("same_address", 30, REASONS["same_address"])
    return None


# Participants outside the referrer's circle (the referrer and their referees) seen on an
# address before it counts as shared (a carrier's CGNAT, an office's NAT, a café) rather
# than the referrer's own: one is enough, an address someone unrelated uses is nobody's own.
SHARED_IP_MIN_OTHERS = 1
# Requests of the referee from the referrer's own address (click, sign-up, purchase) before
# it says "the referrer's second account" rather than "visited once".
REFERRER_IP_MIN_SIGHTINGS = 2


def _ip_is_public(facts: AssessmentFacts) -> bool:
    return facts.shared_ip_others >= SHARED_IP_MIN_OTHERS


def same_ip(facts: AssessmentFacts) -> Signal | None:
    if _shared(facts, "ip") and not _ip_is_public(facts) and not lives_with_referrer(facts):
        return Signal("same_ip", 25, REASONS["same_ip"])
    return None


def household(facts: AssessmentFacts) -> Signal | None:
    """Someone living with the referrer (`lives_with_referrer`): recorded in place of the
    address and IP signals, weightless by default (a policy may weigh it; the backtest shows
    what that would do)."""
    if lives_with_referrer(facts):
        return Signal("household", 0, REASONS["household"])
    return None


def public_ip(facts: AssessmentFacts) -> Signal | None:
    """The same address, but one many unrelated customers use: recorded (a policy may weigh
    it, the backtest shows what that would do), weightless by default."""
    if _shared(facts, "ip") and _ip_is_public(facts):
        return Signal("public_ip", 0, REASONS["public_ip"], params={"n": facts.shared_ip_others})
    return None


def referrer_ip(facts: AssessmentFacts) -> Signal | None:
    """At a paying stage, the referee was only ever seen on the referrer's own address, which
    nobody else uses: clicked, signed up and paid there and nowhere else. A second account lives where its
    maker sits; a friend, even a colleague or someone at home, also turns up on their phone
    or another network. On top of `same_ip`, enough for a person to look."""
    if facts.stage_key == "signup" or not _shared(facts, "ip") or _ip_is_public(facts):
        return None  # at sign-up nothing is paid yet: wait for where the purchase comes from
    if lives_with_referrer(facts):
        return None  # at home, both of them
    shared = facts.referrer.ip & facts.referee.ip
    seen = sum(facts.referee.ip_seen.get(token, 0) for token in shared)
    elsewhere = sum(n for token, n in facts.referee.ip_seen.items() if token not in shared)
    if seen >= REFERRER_IP_MIN_SIGHTINGS and not elsewhere:
        return Signal("referrer_ip", 10, REASONS["referrer_ip"], params={"n": seen})
    return None


def same_ip24(facts: AssessmentFacts) -> Signal | None:
    # Only when the exact address differs, so one shared IP is not counted twice.
    if _shared(facts, "ip24") and not _shared(facts, "ip"):
        return Signal("same_ip24", 10, REASONS["same_ip24"])
    return None


def same_company(facts: AssessmentFacts) -> Signal | None:
    referrer, referee = facts.referrer, facts.referee
    if referrer.company_id and referrer.company_id == referee.company_id:
        return Signal(
            "same_company",
            100,
            REASONS["same_company"],
            forces=REJECT,
        )
    return None


def same_email_domain(facts: AssessmentFacts) -> Signal | None:
    domain = facts.referee.email_domain
    if domain and not facts.referee_domain_is_free_mail and domain == facts.referrer.email_domain:
        return Signal(
            "same_domain",
            35,
            REASONS["same_domain"],
            params={"domain": domain},
            forces=REVIEW,
        )
    return None


def disposable_email(facts: AssessmentFacts) -> Signal | None:
    if facts.referee_email_disposable:
        return Signal("disposable_email", 45, REASONS["disposable_email"])
    return None


# --- velocity and speed ---------------------------------------------------------------

VELOCITY_MIN_OTHERS = 2  # this referee plus two others of the same referrer


def velocity(facts: AssessmentFacts) -> Signal | None:
    hits = {k: n for k, n in facts.velocity.items() if n >= VELOCITY_MIN_OTHERS}
    if not hits:
        return None
    kind, count = max(hits.items(), key=lambda kv: kv[1])
    return Signal(
        "velocity",
        45,
        REASONS["velocity"],
        params={"count": count, "kind": kind},
    )


# Identifiers one person has only one of: a second referee with the same one is the same
# person referred again (Gmail dots and `+tags` are folded before hashing).
DUPLICATE_KINDS = ("email", "phone", "payment", "device")


def duplicate_referee(facts: AssessmentFacts) -> Signal | None:
    hits = {k: n for k, n in facts.duplicates.items() if k in DUPLICATE_KINDS and n >= 1}
    if not hits:
        return None
    kind = max(hits, key=lambda k: (hits[k], -DUPLICATE_KINDS.index(k)))
    return Signal(
        "duplicate_referee",
        45,
        REASONS["duplicate_referee"],
        params={"count": hits[kind], "kind": kind},
    )


BURST_MIN = 5
BURST_FACTOR = 3


def _burst(code: str, weight: int, count: int, usual: float, minimum: int) -> Signal | None:
    """`count` sign-ups in the window against the referrer's `usual` count per active one."""
    if count >= minimum and count >= BURST_FACTOR * max(usual, 1.0):
        return Signal(
            code, weight, REASONS[code], params={"count": count, "usual": round(usual, 1)}
        )
    return None


def burst(facts: AssessmentFacts) -> Signal | None:
    return _burst("burst", 40, facts.signups_last_hour, facts.signups_per_active_hour, BURST_MIN)


BURST_WEEK_MIN = 7
# A burst packs sign-ups together; a productive referrer's steady lead a day (SCENARIOS A)
# never brings two this close.
BURST_WEEK_CLOSEST_HOURS = 12


def burst_days(facts: AssessmentFacts) -> Signal | None:
    """A slow burst: sign-ups spread so no hour holds five, but a week holds far more than
    this referrer's usual, some of them hours apart, as bought or scripted "friends" arrive
    a few a day."""
    if facts.signups_week_closest_hours >= BURST_WEEK_CLOSEST_HOURS:
        return None
    return _burst(
        "burst_days", 30, facts.signups_week, facts.signups_per_active_week, BURST_WEEK_MIN
    )


CLICK_TO_SIGNUP_MIN_SECONDS = 15
SIGNUP_TO_PURCHASE_MIN_SECONDS = 30


def fast_signup(facts: AssessmentFacts) -> Signal | None:
    seconds = facts.click_to_signup_seconds
    if seconds is not None and 0 <= seconds < CLICK_TO_SIGNUP_MIN_SECONDS:
        return Signal("fast_signup", 20, REASONS["fast_signup"], params={"s": int(seconds)})
    return None


def fast_purchase(facts: AssessmentFacts) -> Signal | None:
    seconds = facts.signup_to_purchase_seconds
    if seconds is not None and 0 <= seconds < SIGNUP_TO_PURCHASE_MIN_SECONDS:
        return Signal("fast_purchase", 15, REASONS["fast_purchase"], params={"s": int(seconds)})
    return None


def automated_agent(facts: AssessmentFacts) -> Signal | None:
    classes = set(facts.referee.ua_classes)
    if "headless" in classes:
        return Signal("headless_agent", 40, REASONS["headless_agent"])
    if "preview" in classes and "browser" not in classes:
        return Signal("preview_agent", 30, REASONS["preview_agent"])
    return None


# --- outcomes, lists, rings ---------------------------------------------------------

REFUND_MIN_COUNT = 2
# Purchases of the referrer's referees before their refund rate means anything: two refunds
# of a friend or two happen to honest referrers; a rate needs a sample.
REFUND_MIN_PURCHASES = 5
REFUND_FACTOR = 3
REFUND_MIN_RATE = 0.4


def refund_anomaly(facts: AssessmentFacts) -> Signal | None:
    if facts.referrer_refunds < REFUND_MIN_COUNT or facts.referrer_purchases < REFUND_MIN_PURCHASES:
        return None
    rate = facts.referrer_refunds / facts.referrer_purchases
    if rate >= REFUND_MIN_RATE and rate >= REFUND_FACTOR * facts.program_refund_rate:
        return Signal(
            "refund_anomaly",
            35,
            REASONS["refund_anomaly"],
            params={"pct": round(rate * 100), "avg": round(facts.program_refund_rate * 100)},
        )
    return None


REFUND_AFTER_REWARD_DAYS = 14


def refund_after_reward(facts: AssessmentFacts) -> Signal | None:
    days = facts.refund_after_reward_days
    if days is not None and 0 <= days <= REFUND_AFTER_REWARD_DAYS:
        return Signal(
            "refund_after_reward",
            30,
            REASONS["refund_after_reward"],
            params={"d": int(days)},
        )
    return None


def nothing_at_stake(facts: AssessmentFacts) -> bool:
    """A refund inside a hold that left the referral no unreleased reward: the rules already
    reversed what it undid (SEMANTICS §5), so a review would have nothing to hold or reject.
    The refund still counts towards the referrer's refund rate on their other referrals."""
    return (
        facts.stage_key.startswith("refund:")
        and facts.refund_inside_hold
        and facts.unreleased_rewards == 0
    )


def blocklisted(facts: AssessmentFacts) -> Signal | None:
    if facts.blocklisted:
        return Signal(
            "blocklisted",
            100,
            REASONS["blocklisted"],
            params={"kinds": ", ".join(facts.blocklisted)},
            forces=REJECT,
        )
    return None


def ring(facts: AssessmentFacts) -> Signal | None:
    if facts.ring_kinds:
        return Signal(
            "ring",
            60,
            REASONS["ring"],
            params={"kinds": ", ".join(facts.ring_kinds)},
        )
    return None


def payment_reuse(facts: AssessmentFacts) -> Signal | None:
    if facts.payment_shared_with >= 1:
        return Signal(
            "payment_reuse",
            50,
            REASONS["payment_reuse"],
            params={"n": facts.payment_shared_with},
        )
    return None


def leaked_code(facts: AssessmentFacts) -> Signal | None:
    if facts.code_leaked:
        return Signal(
            "leaked_code",
            30,
            REASONS["leaked_code"],
        )
    return None


SIGNALS: tuple[Callable[[AssessmentFacts], Signal | None], ...] = (
    same_email,
    same_phone,
    same_device,
    same_payment,
    same_address,
    same_ip,
    public_ip,
    household,
    referrer_ip,
    same_ip24,
    same_company,
    same_email_domain,
    disposable_email,
    velocity,
    duplicate_referee,
    burst,
    burst_days,
    fast_signup,
    fast_purchase,
    automated_agent,
    refund_anomaly,
    refund_after_reward,
    blocklisted,
    ring,
    payment_reuse,
    leaked_code,
)

SIGNAL_CODES = (
    "same_email",
    "same_phone",
    "same_device",
    "same_payment",
    "same_address",
    "same_ip",
    "same_ip24",
    "referrer_ip",
    "public_ip",
    "household",
    "same_company",
    "same_domain",
    "disposable_email",
    "velocity",
    "duplicate_referee",
    "burst",
    "burst_days",
    "fast_signup",
    "fast_purchase",
    "headless_agent",
    "preview_agent",
    "refund_anomaly",
    "refund_after_reward",
    "blocklisted",
    "ring",
    "payment_reuse",
    "leaked_code",
    "assessment_failed",
    "attribution_review",
)


# The weight each signal carries unless a policy says otherwise (shown on the policy page).
DEFAULT_WEIGHTS = {
    "same_email": 100,
    "same_phone": 90,
    "same_device": 70,
    "same_payment": 100,
    "same_address": 30,
    "same_ip": 25,
    "same_ip24": 10,
    "referrer_ip": 10,
    "public_ip": 0,
    "household": 0,
    "same_company": 100,
    "same_domain": 35,
    "disposable_email": 45,
    "velocity": 45,
    "duplicate_referee": 45,
    "burst": 40,
    "burst_days": 30,
    "fast_signup": 20,
    "fast_purchase": 15,
    "headless_agent": 40,
    "preview_agent": 30,
    "refund_anomaly": 35,
    "refund_after_reward": 30,
    "blocklisted": 100,
    "ring": 60,
    "payment_reuse": 50,
    "leaked_code": 30,
    "assessment_failed": 0,
    "attribution_review": 0,
}


# --- scoring ---------------------------------------------------------------------------

DEFAULT_REVIEW_THRESHOLD = 30
DEFAULT_REJECT_THRESHOLD = 70


@dataclass(frozen=True)
class Policy:
    """Weights and thresholds in force: defaults, then the tenant's, then the program's."""

    review_threshold: int = DEFAULT_REVIEW_THRESHOLD
    reject_threshold: int = DEFAULT_REJECT_THRESHOLD
    weights: Mapping[str, int] = field(default_factory=dict)  # code → weight override
    forces: Mapping[str, str] = field(default_factory=dict)  # code → approve/review/reject/""

    def merged(
        self, *, review_threshold=None, reject_threshold=None, weights=None, forces=None
    ) -> Policy:
        return Policy(
            review_threshold=self.review_threshold
            if review_threshold is None
            else review_threshold,
            reject_threshold=self.reject_threshold
            if reject_threshold is None
            else reject_threshold,
            weights={**self.weights, **(weights or {})},
            forces={**self.forces, **(forces or {})},
        )


@dataclass(frozen=True)
class Result:
    score: int
    decision: str
    signals: tuple[dict, ...]


def detect(facts: AssessmentFacts) -> list[Signal]:
    return [signal for check in SIGNALS if (signal := check(facts)) is not None]


def score(signals: list[dict] | tuple[dict, ...], policy: Policy) -> Result:
    """Score stored or fresh signals under `policy`: the same signals always give the same result.

    Re-scoring stored signals is what backtesting does, so this takes the stored dict shape.
    """
    applied = []
    total = 0
    forced = APPROVE
    for raw in signals:
        code = raw["code"]
        weight = int(policy.weights.get(code, raw["weight"]))
        forces = policy.forces.get(code, raw.get("forces", "")) or ""
        applied.append({**raw, "weight": weight, "forces": forces})
        total += max(weight, 0)
        if forces in _SEVERITY and _SEVERITY[forces] > _SEVERITY[forced]:
            forced = forces
    total = min(total, 100)
    if total >= policy.reject_threshold:
        by_score = REJECT
    elif total >= policy.review_threshold:
        by_score = REVIEW
    else:
        by_score = APPROVE
    decision = by_score if _SEVERITY[by_score] >= _SEVERITY[forced] else forced
    return Result(score=total, decision=decision, signals=tuple(applied))


def assess(facts: AssessmentFacts, policy: Policy) -> Result:
    return score([s.as_dict() for s in detect(facts)], policy)


def failed_result() -> Result:
    """What stands when the assessment could not run: cash fails closed into review."""
    signal = Signal(
        "assessment_failed",
        0,
        REASONS["assessment_failed"],
        forces=REVIEW,
    )
    return Result(score=0, decision=REVIEW, signals=(signal.as_dict(),))
