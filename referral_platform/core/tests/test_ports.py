import pytest
from django.core.exceptions import ImproperlyConfigured

from referral_platform.core import ports


@pytest.fixture
def port():
    port = ports.Port("tests.figure")
    yield port
    ports._PORTS.remove(port)


def test_an_unfilled_port_raises_and_the_system_check_names_it(port):
    with pytest.raises(ImproperlyConfigured, match="tests.figure"):
        port(1)
    assert [e.msg for e in ports.ports_filled()] == ["No installed app provides tests.figure."]


def test_a_filled_port_calls_its_provider_and_the_check_passes(port):
    port.install(lambda n, *, times: n * times)
    assert port(3, times=2) == 6
    assert ports.ports_filled() == []


def test_the_lower_apps_figures_are_provided_by_the_installed_apps():
    from fraud import readside as fraud_readside
    from programs import readside

    assert readside.headline_numbers.installed and readside.in_flight.installed
    assert fraud_readside.reward_money.installed
    assert ports.ports_filled() == []
