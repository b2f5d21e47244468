"""Labelled synthetic referral traffic, and a runner that pushes it through the real pipeline
(tracking's services: participant upsert, enrollment, click record, event ingest and
processing → attribution → fraud → rewards; then the periodic jobs that release holds).

Tooling, not product: it lives in `demo`, which may read every app (the measure reads
fraud's assessments and rewards' cash). Used by `manage.py fraud_quality` to print precision
and recall of review+reject against the labels; the generator is deterministic for a seed.
The policy backtest ops run on stored assessments is the product's, in `fraud.backtest`.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

HONEST = "honest"
# What the rules are held to on this traffic: fraudulent referrals ending with no cash, and
# honest ones held (sent to review or rejected).
TARGET_FRAUD_WITHOUT_CASH = 0.95
TARGET_HONEST_REVIEW = 0.02
FRAUD_KINDS = (
    "self_gmail",
    "self_disposable",
    "device_farm",
    "payment_ring",
    "refund_abuse",
    "burst",
    "self_ip",
    "slow_burst",
    "gmail_alias",
    "shared_card",
    "shared_device",
)
# Honest referrals that look like fraud on one identifier: a referee label is `honest:<kind>`
# (the referrer's label stays `honest`), so the figures show each look-alike apart.
LOOK_ALIKES = (
    "office",  # a colleague on the office's NAT address
    "cgnat",  # two customers of one mobile carrier behind one public address
    "household",  # someone living with the referrer: same home address and network
    "family",  # a relative living elsewhere
    "neighbour",  # same ISP /24
    "popular",  # a referrer whose friends keep signing up, weeks apart
)


def is_honest(label: str) -> bool:
    return label == HONEST or label.startswith(HONEST + ":")


BROWSER_UAS = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 Version/17.4 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/124.0 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/124.0 Mobile Safari/537.36 MicroMessenger/8.0",
)
HEADLESS_UA = (
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 HeadlessChrome/124.0 Safari/537.36"
)
FREE_DOMAINS = ("gmail.com", "qq.com", "163.com", "outlook.com", "126.com", "icloud.com")
DISPOSABLE_DOMAINS = (
    "mailinator.com",
    "guerrillamail.com",
    "10minutemail.com",
    "yopmail.com",
    "trashmail.com",
)


@dataclass
class Person:
    external_id: str
    email: str
    phone: str = ""
    ip: str = ""
    device: str = ""
    payment: str = ""
    address: str = ""
    ua: str = BROWSER_UAS[0]

    def context(self, **overrides) -> dict:
        ctx = {
            "ip": self.ip,
            "user_agent": self.ua,
            "device_id": self.device,
            "payment_fingerprint": self.payment,
            "address": self.address,
        }
        ctx.update(overrides)
        return {k: v for k, v in ctx.items() if v}


@dataclass
class Referee:
    person: Person
    label: str
    signup_at: datetime
    click_seconds_before: int = 600
    click_ua_class: str = "mobile"
    purchase_after: timedelta | None = timedelta(hours=20)
    refund_after: timedelta | None = None
    preview_first: bool = False
    # Where each step happened when not at `person.ip`: {"click": ip, "purchase": ip}.
    # People live on several networks (home, phone, work); a second account made by a
    # fraudster only ever appears where its maker sits.
    ips: dict[str, str] = field(default_factory=dict)

    def ip(self, step: str) -> str:
        return self.ips.get(step) or self.person.ip


@dataclass
class Referrer:
    person: Person
    label: str
    referees: list[Referee] = field(default_factory=list)


class _Gen:
    def __init__(self, seed: int, start: datetime):
        self.rng = random.Random(seed)
        self.start = start
        self.n = 0
        # Three carriers, each with a handful of public addresses in one /24.
        self.carrier_pool = [
            f"{net}.{self.rng.randint(1, 254)}"
            for net in ("112.96.33", "117.136.8", "39.144.10")
            for _ in range(6)
        ]

    def uid(self, prefix: str) -> str:
        self.n += 1
        return f"{prefix}-{self.n:05d}"

    def ip(self) -> str:
        r = self.rng
        return f"{r.randint(1, 223)}.{r.randint(0, 255)}.{r.randint(0, 255)}.{r.randint(1, 254)}"

    def name(self) -> str:
        first = self.rng.choice(
            [
                "li",
                "wang",
                "zhang",
                "liu",
                "chen",
                "yang",
                "anna",
                "ben",
                "carla",
                "dev",
                "emma",
                "felix",
            ]
        )
        return f"{first}{self.rng.randint(100, 99999)}"

    def person(self, prefix: str, *, domain: str | None = None) -> Person:
        r = self.rng
        local = self.name()
        return Person(
            external_id=self.uid(prefix),
            email=f"{local}@{domain or r.choice(FREE_DOMAINS)}",
            phone=f"+86139{r.randint(10000000, 99999999)}",
            ip=self.ip(),
            device=f"dev-{r.getrandbits(48):012x}",
            payment=f"card-{r.getrandbits(48):012x}",
            address=f"{r.randint(1, 999)} {r.choice(['Green', 'Oak', 'Lake', 'Hill'])} Road, Apt {r.randint(1, 40)}, {r.choice(['Shanghai', 'Beijing', 'Shenzhen'])}",
            ua=r.choice(BROWSER_UAS),
        )

    def disposable_domain(self) -> str:
        """A throwaway provider: a well-known one, any of the thousands the blocklist
        knows, or a subdomain of one (`x.mailinator.com`)."""
        from disposable_email_domains import blocklist

        roll = self.rng.random()
        if roll < 0.4:
            return self.rng.choice(DISPOSABLE_DOMAINS)
        if roll < 0.8:
            return self.rng.choice(sorted(blocklist))
        return f"{self.name()}.{self.rng.choice(DISPOSABLE_DOMAINS)}"

    def elsewhere(self, purchase_after: timedelta | None) -> dict[str, str]:
        """Where an honest person's other steps happen. The link arrives in a chat and is
        opened on the phone, often on mobile data; a purchase hours or days after signing
        up is made wherever the person is by then: the same network, home, or the phone."""
        r = self.rng
        ips = {}
        phone = self.carrier_ip() if r.random() < 0.6 else ""
        if phone and r.random() < 0.5:
            ips["click"] = phone
        if purchase_after is not None and purchase_after > timedelta(hours=3):
            roll = r.random()
            if roll < 0.25:
                ips["purchase"] = self.ip()  # another of their networks: home or work
            elif roll < 0.45 and phone:
                ips["purchase"] = phone
        return ips

    def carrier_ip(self) -> str:
        """A mobile carrier's public address: its CGNAT puts thousands of phones behind a
        few dozen of them, so unrelated customers share one."""
        return self.rng.choice(self.carrier_pool)

    def free_email(self) -> str:
        return f"{self.name()}@{self.rng.choice(FREE_DOMAINS)}"

    def when(self, days_ago_max: int = 40, days_ago_min: int = 12) -> datetime:
        return self.start - timedelta(
            days=self.rng.uniform(days_ago_min, days_ago_max), minutes=self.rng.randint(0, 1440)
        )


def generate(
    *, seed: int = 7, now: datetime, honest_referrers: int = 120, fraud_each: int = 6
) -> list[Referrer]:
    """Labelled traffic. Honest referrers bring 1–4 friends (a few bring a dozen, weeks
    apart), some refund; a quarter work in offices whose colleagues sign up on the office's
    NAT address, many are on mobile carriers whose CGNAT puts unrelated customers behind one
    address, some refer a neighbour on their ISP's /24, a relative, or someone living with
    them. Fraud comes in eleven patterns (`FRAUD_KINDS`), each `fraud_each` times."""
    g = _Gen(seed, now)
    r = g.rng
    out: list[Referrer] = []

    offices = [g.ip() for _ in range(max(2, honest_referrers // 12))]
    for _ in range(honest_referrers):
        ref = Referrer(g.person("h"), HONEST)
        where = r.random()
        office = r.choice(offices) if where < 0.25 else None
        if office:  # signs in from work: the office's one NAT address
            ref.person.ip = office
        elif where < 0.55:  # on mobile data
            ref.person.ip = g.carrier_ip()
        popular = r.random() < 0.03
        for _ in range(r.randint(6, 12) if popular else r.randint(1, 4)):
            friend = g.person("hf")
            kind = "popular" if popular else ""
            roll = r.random()
            if office and roll < 0.5:
                friend.ip, kind = office, "office"  # a colleague, signing up at work
            elif roll < 0.01:
                # Lives with the referrer: the home network and address, their own phone,
                # email, device and card.
                friend.ip, friend.address, kind = ref.person.ip, ref.person.address, "household"
            elif roll < 0.10:
                kind = "family"  # a relative elsewhere: nothing shared but a surname
            elif roll < 0.18:  # a neighbour on the same ISP network
                friend.ip = ".".join(ref.person.ip.split(".")[:3] + [str(r.randint(1, 254))])
                kind = kind or "neighbour"
            elif roll < 0.50:
                friend.ip, kind = g.carrier_ip(), kind or "cgnat"
            label = f"{HONEST}:{kind}" if kind else HONEST
            at = g.when()
            click_after = r.randint(60, 3 * 86400)
            purchase_after = timedelta(hours=r.uniform(1, 96)) if r.random() < 0.8 else None
            ref.referees.append(
                Referee(
                    friend,
                    label,
                    at,
                    click_seconds_before=click_after,
                    purchase_after=purchase_after,
                    refund_after=timedelta(days=r.uniform(1, 5)) if r.random() < 0.05 else None,
                    preview_first=r.random() < 0.3,
                    ips=g.elsewhere(purchase_after),
                )
            )
        out.append(ref)

    for _ in range(fraud_each):
        # Second accounts at Gmail with dots and +tags, from the same phone or laptop.
        me = g.person("sg", domain="gmail.com")
        local = me.email.split("@")[0]
        ref = Referrer(me, "self_gmail")
        for k in range(r.randint(1, 3)):
            dotted = ".".join(local) if k == 0 else f"{local[:3]}.{local[3:]}+{k}"
            alt = Person(
                g.uid("sga"),
                f"{dotted}@gmail.com",
                ip=me.ip if r.random() < 0.7 else g.ip(),
                device=me.device if r.random() < 0.5 else f"dev-{r.getrandbits(40):x}",
                payment=me.payment if r.random() < 0.5 else f"card-{r.getrandbits(40):x}",
                address=me.address,
                ua=me.ua,
            )
            ref.referees.append(
                Referee(alt, "self_gmail", g.when(), click_seconds_before=r.randint(20, 600))
            )
        out.append(ref)

        # Throwaway addresses for second accounts.
        me = g.person("sd")
        ref = Referrer(me, "self_disposable")
        for _ in range(r.randint(1, 3)):
            alt = g.person("sda", domain=g.disposable_domain())
            if r.random() < 0.5:
                alt.ip = me.ip
            ref.referees.append(
                Referee(alt, "self_disposable", g.when(), click_seconds_before=r.randint(20, 900))
            )
        out.append(ref)

        # A device farm: a handful of phones and one uplink behind many "friends".
        me = g.person("df")
        ref = Referrer(me, "device_farm")
        farm_ip = g.ip()
        farm_devices = [f"farm-{r.getrandbits(32):x}" for _ in range(3)]
        base = g.when()
        for i in range(r.randint(6, 10)):
            friend = g.person("dff")
            friend.ip, friend.device = farm_ip, r.choice(farm_devices)
            ref.referees.append(
                Referee(
                    friend,
                    "device_farm",
                    base + timedelta(hours=i * 5),
                    click_seconds_before=r.randint(30, 300),
                )
            )
        out.append(ref)

    # Rings: referrers who trade referees paying with the same few cards.
    for _ in range(max(1, fraud_each // 2)):
        cards = [f"ring-{r.getrandbits(40):x}" for _ in range(2)]
        for _ in range(3):
            me = g.person("rg")
            ref = Referrer(me, "payment_ring")
            for _ in range(2):
                friend = g.person("rgf")
                friend.payment = r.choice(cards)
                ref.referees.append(Referee(friend, "payment_ring", g.when()))
            out.append(ref)

    for _ in range(fraud_each):
        # Refund abusers: friends buy to trigger the reward, then refund.
        me = g.person("ra")
        ref = Referrer(me, "refund_abuse")
        for i in range(r.randint(4, 6)):
            friend = g.person("raf")
            ref.referees.append(
                Referee(
                    friend,
                    "refund_abuse",
                    g.when() + timedelta(minutes=i),
                    purchase_after=timedelta(hours=2),
                    refund_after=timedelta(days=r.uniform(1, 3)),
                )
            )
        out.append(ref)

        # Bursts: scripted sign-ups seconds after the click, headless.
        me = g.person("bu")
        ref = Referrer(me, "burst")
        base = g.when()
        for i in range(r.randint(6, 12)):
            friend = g.person("buf")
            friend.ua = HEADLESS_UA
            ref.referees.append(
                Referee(
                    friend,
                    "burst",
                    base + timedelta(minutes=i * 4),
                    click_seconds_before=r.randint(2, 8),
                    click_ua_class="headless",
                    purchase_after=timedelta(seconds=r.randint(5, 20)),
                )
            )
        out.append(ref)

    for _ in range(fraud_each):
        # Second accounts from the referrer's own home address and nothing else in common:
        # another email, phone, browser and card; clicked, signed up and paid from home.
        me = g.person("si")
        ref = Referrer(me, "self_ip")
        for _ in range(r.randint(1, 3)):
            alt = g.person("sia")
            alt.ip = me.ip
            ref.referees.append(
                Referee(
                    alt,
                    "self_ip",
                    g.when(),
                    click_seconds_before=r.randint(30, 3600),
                    purchase_after=timedelta(hours=r.uniform(1, 48)),
                )
            )
        out.append(ref)

        # A slow burst: a bought list of "friends" signed up a few a day over days, each
        # through another residential proxy, never five in an hour.
        me = g.person("sb")
        ref = Referrer(me, "slow_burst")
        base, span = g.when(days_ago_max=38, days_ago_min=20), r.uniform(2, 6)
        for _ in range(r.randint(6, 10)):
            friend = g.person("sbf")
            ref.referees.append(
                Referee(
                    friend,
                    "slow_burst",
                    base + timedelta(days=r.uniform(0, span)),
                    click_seconds_before=r.randint(30, 900),
                    purchase_after=timedelta(hours=r.uniform(1, 30)),
                )
            )
        out.append(ref)

        # One Gmail mailbox behind several referees: dots moved, `+tags`, googlemail.com.
        me = g.person("ga")
        ref = Referrer(me, "gmail_alias")
        mailbox = g.name() + "x"
        for k in range(r.randint(2, 4)):
            cut = 1 + k % (len(mailbox) - 1)
            local = [
                f"{mailbox[:cut]}.{mailbox[cut:]}",
                f"{mailbox}+{g.name()}",
                ".".join(mailbox),
                f"{mailbox[:cut]}.{mailbox[cut:]}+{k}",
            ][k % 4]
            alias = g.person("gaf")
            alias.email = f"{local}@{'googlemail.com' if k == 3 else 'gmail.com'}"
            alias.ip = g.carrier_ip() if r.random() < 0.5 else g.ip()
            ref.referees.append(
                Referee(alias, "gmail_alias", g.when(), click_seconds_before=r.randint(30, 3600))
            )
        out.append(ref)

        # Several referees of one referrer paying with one card that is not the referrer's;
        # several on one phone, over mobile data, weeks apart.
        for prefix, label, kind in (
            ("sc", "shared_card", "payment"),
            ("sv", "shared_device", "device"),
        ):
            ref = Referrer(g.person(prefix), label)
            value = f"{kind}-{r.getrandbits(48):012x}"
            for _ in range(r.randint(2, 4)):
                friend = g.person(prefix + "f")
                setattr(friend, kind, value)
                if kind == "device":
                    friend.ip, friend.ua = g.carrier_ip(), BROWSER_UAS[0]
                ref.referees.append(Referee(friend, label, g.when()))
            out.append(ref)
    return out


# --- the runner ----------------------------------------------------------------------------


def quality_spec(slug: str = "quality") -> dict:
    """One paying stage with a ¥50 referrer cash reward held 7 days."""
    return {
        "spec_version": 1,
        "slug": slug,
        "name": "Fraud quality",
        "status": "active",
        "currency": "CNY",
        "attribution": {"window_days": 30, "model": "last"},
        "stages": [
            {
                "key": "paid",
                "label": "First purchase",
                "status": "converted",
                "success": True,
                "condition": {"event": "purchase"},
                "hold": {"days": 7},
                "rewards": [
                    {
                        "key": "paid_cash",
                        "side": "referrer",
                        "kind": "cash",
                        "amount": 5000,
                        "description": "Paid friend",
                    }
                ],
            }
        ],
    }


def run(*, tenant, traffic: list[Referrer]) -> dict[int, str]:
    """Push the traffic through tracking and return {referral id: label}."""
    from pipeline import flow
    from programs.services import program_create
    from referral_platform.core.periodic import run_all
    from tracking import services as tracking
    from tracking.identity import new_ulid
    from tracking.models import Referral

    program = program_create(tenant=tenant, spec=quality_spec(), actor=None)
    seq = Counter()

    def send(
        type_: str,
        person: Person,
        at: datetime,
        *,
        referral=None,
        amount=None,
        context=None,
        email=None,
    ):
        seq["e"] += 1
        payload = {
            "event_id": f"q-{seq['e']}",
            "type": type_,
            "occurred_at": at.isoformat(),
            "participant": {
                "external_id": person.external_id,
                **({"email": email} if email else {}),
                **({"phone": person.phone} if email and person.phone else {}),
            },
            "context": context if context is not None else person.context(),
        }
        if referral:
            payload["referral"] = referral
        if amount:
            payload["amount"] = {"amount_minor": amount, "currency": "CNY"}
        event, _ = tracking.event_ingest(
            tenant=tenant, data={**payload, "occurred_at": at}, payload=payload
        )
        flow.event_process_by_id(event.pk)

    events = []  # (time, kind, args) so everything happens in occurred_at order
    for ref in traffic:
        person = ref.person
        participant, _ = tracking.participant_upsert(
            tenant=tenant, external_id=person.external_id, email=person.email, phone=person.phone
        )
        _enrollment, code, _ = tracking.enrollment_create(
            tenant=tenant, program=program, participant=participant
        )
        first = min((f.signup_at for f in ref.referees), default=None)
        if first is not None:
            # The referrer's own history: where they sign in from and how they pay.
            events.append((first - timedelta(days=30), "own", (person,)))
        for friend in ref.referees:
            events.append(
                (
                    friend.signup_at - timedelta(seconds=friend.click_seconds_before),
                    "click",
                    (friend, code.code),
                )
            )
            events.append((friend.signup_at, "signup", (friend,)))
            if friend.purchase_after is not None:
                events.append((friend.signup_at + friend.purchase_after, "purchase", (friend,)))
                if friend.refund_after is not None:
                    events.append(
                        (
                            friend.signup_at + friend.purchase_after + friend.refund_after,
                            "refund",
                            (friend,),
                        )
                    )
    events.sort(key=lambda e: e[0])
    clicks: dict[str, str] = {}
    for at, kind, args in events:
        if kind == "own":
            (person,) = args
            send("signup", person, at, email=person.email)
            send("purchase", person, at + timedelta(hours=1), amount=9900)
        elif kind == "click":
            friend, code = args
            entry = tracking.code_resolve(code)
            click_id = new_ulid()
            if friend.preview_first:
                tracking.click_record(
                    entry=entry,
                    click_id=new_ulid(),
                    source="wechat",
                    ip="101.91.0.1",
                    ua_class="bot",
                    referer="",
                    utm={},
                    is_bot=True,
                    now=at,
                )
            tracking.click_record(
                entry=entry,
                click_id=click_id,
                source="link",
                ip=friend.ip("click"),
                ua_class=friend.click_ua_class,
                referer="",
                utm={},
                is_bot=False,
                now=at,
            )
            clicks[friend.person.external_id] = (code, click_id)
        elif kind == "signup":
            (friend,) = args
            code, click_id = clicks[friend.person.external_id]
            send(
                "signup",
                friend.person,
                at,
                referral={"code": code, "click_id": click_id},
                email=friend.person.email,
            )
        elif kind == "purchase":
            (friend,) = args
            context = friend.person.context(ip=friend.ip("purchase"))
            send("purchase", friend.person, at, amount=15000, context=context)
        elif kind == "refund":
            (friend,) = args
            send("refund", friend.person, at, amount=15000)
    run_all()  # release every hold that has passed, as `tick` would
    labels = {f.person.external_id: f.label for ref in traffic for f in ref.referees}
    return {
        r.pk: labels[r.referee.external_id]
        for r in Referral.objects.for_tenant(tenant).select_related("referee")
        if r.referee.external_id in labels
    }


def measure(*, tenant, labels: dict[int, str]) -> dict:
    from fraud.models import Assessment
    from rewards.models import Reward

    flagged = set(
        Assessment.objects.for_tenant(tenant)
        .filter(referral_id__in=labels, decision__in=["review", "reject"])
        .values_list("referral_id", flat=True)
    )
    reviewed = set(
        Assessment.objects.for_tenant(tenant)
        .filter(referral_id__in=labels, decision="review")
        .values_list("referral_id", flat=True)
    )
    cash = defaultdict(list)
    early = 0
    for reward in Reward.objects.for_tenant(tenant).filter(referral_id__in=labels, kind="cash"):
        cash[reward.referral_id].append(reward.status)
        if reward.approved_at and reward.due_at and reward.approved_at < reward.due_at:
            early += 1
    released = {
        rid
        for rid, statuses in cash.items()
        if any(s in ("approved", "fulfilled") for s in statuses)
    }
    fraud = {rid for rid, label in labels.items() if not is_honest(label)}
    honest = set(labels) - fraud
    tp = len(flagged & fraud)
    by_kind = {}
    kinds = [*FRAUD_KINDS, HONEST, *(f"{HONEST}:{k}" for k in LOOK_ALIKES)]
    for kind in kinds:
        ids = {rid for rid, label in labels.items() if label == kind}
        if ids:
            by_kind[kind] = {
                "n": len(ids),
                "flagged": len(ids & flagged),
                "cash_released": len(ids & released),
            }
    return {
        "referrals": len(labels),
        "honest": len(honest),
        "fraudulent": len(fraud),
        "precision": tp / len(flagged) if flagged else 1.0,
        "recall": tp / len(fraud) if fraud else 1.0,
        "fraud_without_cash_released": len(fraud - released) / len(fraud) if fraud else 1.0,
        "honest_sent_to_review": len(honest & reviewed) / len(honest) if honest else 0.0,
        # Held: sent to review or rejected, the honest customer's reward withheld either way.
        "honest_flagged": len(honest & flagged) / len(honest) if honest else 0.0,
        "fulfilled_before_hold": early,
        "by_kind": by_kind,
    }
