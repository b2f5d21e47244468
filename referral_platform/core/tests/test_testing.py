"""The test helpers' own promises."""

from referral_platform.celery import app
from referral_platform.core.testing import drop_broker_connections


def test_after_dropping_the_broker_connections_the_same_broker_gets_a_working_pool():
    # A test that points the app at another broker drops its connections before and after;
    # the next test on the first broker must not be handed the pool closed on the way.
    app.pool.acquire(block=False).release()
    drop_broker_connections(app)
    connection = app.pool.acquire(block=False)
    connection.release()
    with app.producer_or_acquire() as producer:
        assert producer.connection is not None
