import pytest

from rewards import engine_bridge


class FakeEngine:
    """Stands in for `programs.engine.evaluate_rewards`: answers with `self.answer(facts)`
    and remembers the facts it was given."""

    def __init__(self):
        self.answer = lambda facts: []
        self.seen = []

    def __call__(self, spec, facts, now, cal):
        self.seen.append(facts)
        return list(self.answer(facts))


@pytest.fixture
def engine(monkeypatch):
    fake = FakeEngine()
    monkeypatch.setattr(engine_bridge, "evaluate_rewards", fake)
    return fake
