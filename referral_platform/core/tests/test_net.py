"""Which address is the client's: REMOTE_ADDR, or the Nth X-Forwarded-For entry from the right."""

import pytest
from django.test import RequestFactory

from referral_platform.core.net import client_ip


def _request(remote_addr: str, forwarded_for: str | None = None, **headers):
    meta = {"REMOTE_ADDR": remote_addr, **headers}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return RequestFactory().get("/", **meta)


def test_without_trusted_proxies_only_remote_addr_counts(settings):
    settings.IPWARE_TRUSTED_PROXY_COUNT = 0
    spoofed = _request(
        "203.0.113.5",
        "198.51.100.7",
        HTTP_X_REAL_IP="198.51.100.8",
        HTTP_CLIENT_IP="198.51.100.9",
        HTTP_FORWARDED="for=198.51.100.10",
    )
    assert client_ip(spoofed) == "203.0.113.5"
    assert client_ip(_request("203.0.113.5")) == "203.0.113.5"


def test_behind_one_proxy_the_rightmost_forwarded_entry_is_the_client(settings):
    settings.IPWARE_TRUSTED_PROXY_COUNT = 1
    # The proxy (10.0.0.2) appended the peer it saw; the client wrote the left part.
    assert client_ip(_request("10.0.0.2", "198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "1.2.3.4, 198.51.100.7")) == "198.51.100.7"
    assert client_ip(_request("10.0.0.2", "garbage, 198.51.100.7")) == "198.51.100.7"


def test_behind_two_proxies_the_second_entry_from_the_right_is_the_client(settings):
    settings.IPWARE_TRUSTED_PROXY_COUNT = 2
    # client -> CDN (appends the client) -> load balancer (appends the CDN) -> app
    assert client_ip(_request("10.0.0.2", "198.51.100.7, 192.0.2.40")) == "198.51.100.7"
    spoofed = _request("10.0.0.2", "1.2.3.4, 5.6.7.8, 198.51.100.7, 192.0.2.40")
    assert client_ip(spoofed) == "198.51.100.7"


@pytest.mark.parametrize("count", [1, 2])
def test_other_forwarding_headers_are_never_trusted(settings, count):
    settings.IPWARE_TRUSTED_PROXY_COUNT = count
    request = _request(
        "10.0.0.2",
        HTTP_X_REAL_IP="1.2.3.4, 5.6.7.8, 9.9.9.9",
        HTTP_CLIENT_IP="1.2.3.4",
        HTTP_FORWARDED="for=1.2.3.4",
    )
    assert client_ip(request) == "10.0.0.2"


def test_a_chain_shorter_than_the_trusted_hops_falls_back_to_remote_addr(settings):
    settings.IPWARE_TRUSTED_PROXY_COUNT = 2
    # Only one hop wrote the header: the request did not come through both proxies.
    assert client_ip(_request("10.0.0.2", "198.51.100.7")) == "10.0.0.2"
    assert client_ip(_request("10.0.0.2")) == "10.0.0.2"
