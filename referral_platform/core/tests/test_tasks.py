"""publish(): the message `delay` would send, sent a cheaper way."""

import pytest

from referral_platform.celery import app
from referral_platform.core.tasks import ping_task, publish


@pytest.fixture
def broker():
    """A broker in this process (kombu's memory transport) instead of running tasks eagerly."""
    url, eager = app.conf.broker_url, app.conf.task_always_eager
    app.conf.update(broker_url="memory://localhost/publish-test", task_always_eager=False)
    # The app keeps the connection and producer pools of the broker it first used.
    app._pool = app.amqp._producer_pool = None
    with app.connection_for_read() as connection:
        queue = connection.SimpleQueue("celery")
        queue.clear()
        yield queue
        queue.clear()
    app.conf.update(broker_url=url, task_always_eager=eager)
    app._pool = app.amqp._producer_pool = None


def _without_ids(message) -> tuple:
    headers = {k: v for k, v in message.headers.items() if k not in ("id", "root_id")}
    properties = {
        k: v
        for k, v in message.properties.items()
        if k not in ("correlation_id", "delivery_tag", "delivery_info")
    }
    return headers, properties, message.content_type, message.payload


def test_publish_sends_the_message_delay_sends_with_its_own_id(broker):
    ping_task.delay("hello")
    publish(ping_task, "hello")
    by_delay, by_publish = broker.get(timeout=1), broker.get(timeout=1)
    assert by_publish.headers["id"] != by_delay.headers["id"]
    assert by_publish.headers["root_id"] == by_publish.headers["id"]
    assert by_publish.properties["correlation_id"] == by_publish.headers["id"]
    assert _without_ids(by_publish) == _without_ids(by_delay)
    assert by_publish.headers["task"] == "core.ping"
    assert by_publish.headers["timelimit"] == [90, 60]
    assert by_publish.headers["argsrepr"] == "('hello',)"
    assert by_publish.payload[0] == ["hello"]
    assert by_publish.delivery_info["routing_key"] == by_delay.delivery_info["routing_key"]


def test_a_long_argument_list_is_shortened_in_the_log_line_as_delay_does(broker):
    ids = list(range(1000))
    ping_task.delay(ids)
    publish(ping_task, ids)
    by_delay, by_publish = broker.get(timeout=1), broker.get(timeout=1)
    assert by_publish.headers["argsrepr"] == by_delay.headers["argsrepr"]
    assert len(by_publish.headers["argsrepr"]) < len(repr((ids,)))
    assert by_publish.payload[0] == [ids]
