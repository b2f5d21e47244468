"""The ordinary event is validated without DRF (event_plain): it must accept nothing that
EventInput refuses, give the same validated data, and take the events tenants really send."""

import copy
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from referral_platform.core import clock
from tracking.api.serializers import EventInput, event_plain

NOT_OBJECTS = st.sampled_from([None, [], "x", 1])


def _texts(limit: int | None):
    """Strings on both sides of each CharField rule, and values that are not strings."""
    around = [n + d for n in (3, limit or 1000) for d in (-1, 0, 1)]
    return st.one_of(
        st.sampled_from(
            ["", " ", "a", " a", "a ", "\n", "\u3000x", "x\xa0", "é", "中文", "a\x00b"]
        ),
        st.sampled_from(["\ud800", "ok\udfff", "12", "CNY", "cny", "CN", "C1Y", "ÀBC", "CNY "]),
        st.builds(lambda n: "x" * n, st.sampled_from(around)),
        st.text(max_size=30),
        st.sampled_from([None, 0, 7, 1.5, True, [], {}]),
    )


def _instants():
    now = clock.now()
    return st.one_of(
        st.sampled_from(
            [
                "2026-03-03T09:30:00+08:00",
                "2026-03-03T01:30:00Z",
                "2026-03-03T01:30:00.123456+00:00",
                "2026-03-03 09:30:00+0800",
                "2026-03-03T09:30:00",
                "2026-03-03",
                "2026-13-03T09:30:00+08:00",
                "9999-12-31T23:59:59-12:00",
                "",
                "yesterday",
            ]
        ),
        st.builds(
            lambda minutes: (now + timedelta(minutes=minutes)).isoformat(),
            st.sampled_from([-60 * 24 * 400, -1, 0, 3, 4.9, 5.1, 6, 60 * 24]),
        ),
        st.sampled_from([None, 0, 1.5, [], {}]),
    )


EVENT = EventInput().fields
IPS = st.sampled_from(
    [
        "",
        "1.2.3.4",
        "01.2.3.4",
        "256.1.1.1",
        "1.2.3",
        " 1.2.3.4",
        "1.2.3.4 ",
        "::1",
        "::ffff:1.2.3.4",
    ]
) | st.sampled_from([None, 1, "x" * 50])
# What each path of an event may be replaced with; nested fields around their own limits.
VALUES = {
    ("event_id",): _texts(EVENT["event_id"].max_length),
    ("type",): st.sampled_from(
        ["signup", "qualified_lead", "purchase", "refund", "activity", "share", "Signup", ""]
    )
    | st.sampled_from([None, 1, ["signup"], {}]),
    ("occurred_at",): _instants(),
    ("order_id",): _texts(EVENT["order_id"].max_length),
    ("amount",): NOT_OBJECTS | st.just({}),
    ("amount", "amount_minor"): st.sampled_from(
        [
            15000,
            0,
            -5,
            10**30,
            2**63 - 1,
            2**63,
            -(2**63),
            -(2**63) - 1,
            True,
            1.0,
            1.5,
            "15000",
            None,
        ]
    ),
    ("amount", "currency"): _texts(3),
    ("properties",): st.dictionaries(
        st.text(max_size=5) | st.sampled_from(["a\x00", "\udc80"]),
        st.integers()
        | st.none()
        | st.sampled_from(["x\x00", "\ud800", 2**63, float("inf")])
        | st.lists(st.sampled_from([1, "\x00", {"k": -(2**63) - 1}]), max_size=2),
        max_size=3,
    )
    | NOT_OBJECTS,
    ("unknown",): st.integers(),
}
for part in ("participant", "referral", "context"):
    VALUES[(part,)] = NOT_OBJECTS | st.just({})
    for name, field in EVENT[part].fields.items():
        VALUES[(part, name)] = IPS if name == "ip" else _texts(field.max_length)

BASES = [
    {"event_id": "e-1", "type": "signup", "participant": {"external_id": "u-1"}},
    {
        "event_id": "p-1",
        "type": "purchase",
        "occurred_at": "2026-03-03T09:30:00+08:00",
        "participant": {"external_id": "u-1", "email": "u1@example.com", "phone": "138"},
        "referral": {"code": "ALICE", "click_id": "01HZX3V6M1J6YQ1B3A2C4D5E6F"},
        "order_id": "o-1",
        "amount": {"amount_minor": 15000, "currency": "CNY"},
        "context": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "address": "上海"},
        "properties": {"first_order": True},
    },
]


@st.composite
def events(draw):
    """A valid event with a few of its fields, at any depth, replaced or removed, so that
    both sides of each rule are drawn; now and then something that is not an object."""
    if draw(st.integers(0, 20)) == 0:
        return draw(NOT_OBJECTS)
    data = copy.deepcopy(draw(st.sampled_from(BASES)))
    for path in draw(st.lists(st.sampled_from(sorted(VALUES)), max_size=3, unique=True)):
        parent = data if len(path) == 1 else data.get(path[0])
        if not isinstance(parent, dict):
            continue
        if draw(st.integers(0, 7)) == 0:
            parent.pop(path[-1], None)
        else:
            parent[path[-1]] = draw(VALUES[path])
    return data


def _same(plain, validated) -> None:
    assert plain == validated
    if "occurred_at" in plain:
        assert plain["occurred_at"].utcoffset() == validated["occurred_at"].utcoffset()


@settings(max_examples=3000, deadline=None)
@given(events())
def test_what_the_plain_check_accepts_event_input_accepts_with_the_same_data(data):
    plain = event_plain(data)
    if plain is None:
        return
    serializer = EventInput(data=data)
    assert serializer.is_valid(), serializer.errors
    _same(plain, serializer.validated_data)


def test_the_events_tenants_send_take_the_plain_check():
    ordinary = [
        {
            "event_id": "o-1",
            "type": "purchase",
            "occurred_at": "2026-03-03T09:30:00+08:00",
            "participant": {"external_id": "c-1", "email": "buyer@example.com"},
            "order_id": "o-1",
            "amount": {"amount_minor": 15000, "currency": "CNY"},
            "properties": {"first_order": True},
        },
        {
            "event_id": "s-1",
            "type": "signup",
            "participant": {"external_id": "u-1", "email": "", "phone": "+86 138 0000 0000"},
            "referral": {"code": "ALICE-7", "click_id": "01HZX3V6M1J6YQ1B3A2C4D5E6F"},
            "context": {"ip": "203.0.113.9", "user_agent": "Mozilla/5.0", "device_id": "d-1"},
        },
        {
            "event_id": "r-1",
            "type": "refund",
            "occurred_at": clock.now().isoformat(),
            "participant": {"external_id": "王小明"},
            "amount": {"amount_minor": 5000, "currency": "cny"},
            "context": {"address": "上海市徐汇区"},
        },
    ]
    for data in ordinary:
        serializer = EventInput(data=data)
        assert serializer.is_valid(), serializer.errors
        plain = event_plain(data)
        assert plain is not None, data
        _same(plain, serializer.validated_data)
