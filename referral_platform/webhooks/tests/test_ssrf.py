"""SSRF: IPv6 forms that wrap an IPv4 address, DNS rebinding between check and connect, and
TLS verified against the host name although the socket goes to a pinned address."""

import datetime
import ipaddress
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from referral_platform.core.errors import ValidationFailed
from referral_platform.webhooks import netguard, transport
from referral_platform.webhooks.models import DeliveryStatus, WebhookAttempt, WebhookDelivery
from referral_platform.webhooks.services import webhook_delivery_replay, webhook_endpoint_create
from referral_platform.webhooks.tests.conftest import Receiver
from referral_platform.webhooks.tests.conftest import emit as _emit

WRAPPERS = {
    "NAT64": "64:ff9b::{}",
    "6to4": "2002:{hi}:{lo}::",
    "IPv4-compatible": "::{}",
    "IPv4-mapped": "::ffff:{}",
    "SIIT": "::ffff:0:{}",
}


def _wrap(form: str, v4: str) -> str:
    packed = int(ipaddress.IPv4Address(v4))
    return WRAPPERS[form].format(v4, hi=f"{packed >> 16:x}", lo=f"{packed & 0xFFFF:x}")


@pytest.mark.parametrize("inner", ["127.0.0.1", "10.0.0.1", "169.254.169.254", "192.168.1.1"])
@pytest.mark.parametrize("form", list(WRAPPERS))
def test_every_ipv6_form_that_wraps_a_private_ipv4_is_refused(tenant, settings, form, inner):
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    address = _wrap(form, inner)
    assert not netguard.address_allowed(address)
    with pytest.raises(ValidationFailed) as caught:
        webhook_endpoint_create(tenant=tenant, url=f"http://[{address}]:8080/hook", events=[])
    assert caught.value.code == "url_not_public"


def test_the_issue_s_literal_forms_are_refused():
    for address in ("64:ff9b::7f00:1", "2002:7f00:1::", "::127.0.0.1", "::ffff:0:127.0.0.1"):
        assert not netguard.address_allowed(address), address
    assert not netguard.address_allowed("64:ff9b:1::a00:1")  # local-use NAT64


@pytest.mark.parametrize("form", ["NAT64", "6to4"])
def test_a_wrapped_public_ipv4_stays_allowed(form):
    assert netguard.address_allowed(_wrap(form, "8.8.8.8"))
    assert netguard.address_allowed("2606:4700:4700::1111")
    assert netguard.address_allowed("8.8.8.8")


@pytest.fixture
def receivers():
    started = []

    def start(**kwargs):
        r = Receiver(**kwargs)
        started.append(r)
        return r

    yield start
    for r in started:
        r.server.shutdown()


@pytest.fixture
def dns(monkeypatch):
    """A resolver for *.example.test answering the next of `answers[name]` on each call (the
    last one repeats), as a rebinding DNS server would; anything else resolves normally."""
    answers: dict[str, list[str]] = {}
    calls: list[str] = []
    real = socket.getaddrinfo

    def getaddrinfo(host, port, *args, **kwargs):
        if isinstance(host, str) and host in answers:
            calls.append(host)
            queue = answers[host]
            address = queue.pop(0) if len(queue) > 1 else queue[0]
            return real(address, port, *args, **kwargs)
        return real(host, port, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", getaddrinfo)
    return answers, calls


@pytest.fixture
def public_loopback(monkeypatch, settings):
    """127.0.0.2 plays a public host (a test cannot reach the internet); 127.0.0.1 stays
    what it is, loopback, where an attacker's target listens."""
    settings.WEBHOOKS_ALLOW_PRIVATE = False
    real = netguard.address_allowed
    monkeypatch.setattr(netguard, "address_allowed", lambda a: a == "127.0.0.2" or real(a))


def test_a_rebinding_resolver_cannot_point_the_post_at_loopback(
    tenant, dns, receivers, public_loopback, django_capture_on_commit_callbacks
):
    public = receivers(host="127.0.0.2", reply=b"public")
    # An internal service on loopback, on the same port number the URL names.
    internal = receivers(host="127.0.0.1", port=public.port, reply=b"internal secret")
    answers, calls = dns
    url = f"http://rebind.example.test:{public.port}/hook"
    answers["rebind.example.test"] = ["127.0.0.2", "127.0.0.1", "127.0.0.2", "127.0.0.1"]

    webhook_endpoint_create(tenant=tenant, url=url, events=[])  # check sees 127.0.0.2
    assert calls == ["rebind.example.test"]
    _emit(tenant, django_capture_on_commit_callbacks)  # the send's one lookup: 127.0.0.1
    delivery = WebhookDelivery.objects.for_tenant(tenant).get()
    attempt = WebhookAttempt.objects.for_tenant(tenant).get()
    assert attempt.response_status is None and attempt.response_body == ""
    assert "non-public" in attempt.error
    assert internal.requests == [] and public.requests == []

    with django_capture_on_commit_callbacks(execute=True):
        webhook_delivery_replay(delivery=delivery)  # one lookup: 127.0.0.2, then no other
    assert calls == ["rebind.example.test"] * 3
    assert len(public.requests) == 1 and internal.requests == []
    headers, _body = public.requests[0]
    assert headers["host"] == f"rebind.example.test:{public.port}"
    delivery.refresh_from_db()
    assert delivery.status == DeliveryStatus.SUCCEEDED
    assert WebhookAttempt.objects.for_tenant(tenant).latest("pk").response_body == "public"


def _certificate(hostname: str):
    """A throwaway CA and a certificate it signs for `hostname`: (ca_pem, cert_pem, key_pem)."""
    now = datetime.datetime.now(datetime.timezone.utc)
    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(1)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostname)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(2)
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(hostname)]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(
        pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return ca.public_bytes(pem), cert.public_bytes(pem), key_pem


@pytest.mark.parametrize("served_name", ["hooks.example.test", "other.example.test"])
def test_tls_is_verified_against_the_url_host_name_not_the_pinned_address(
    tenant,
    dns,
    receivers,
    public_loopback,
    tmp_path,
    monkeypatch,
    served_name,
    django_capture_on_commit_callbacks,
):
    ca_pem, cert_pem, key_pem = _certificate(served_name)
    (tmp_path / "cert.pem").write_bytes(cert_pem)
    (tmp_path / "key.pem").write_bytes(key_pem)
    server_tls = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_tls.load_cert_chain(tmp_path / "cert.pem", tmp_path / "key.pem")
    monkeypatch.setattr(
        transport, "_tls_context", lambda: ssl.create_default_context(cadata=ca_pem.decode())
    )
    server = receivers(host="127.0.0.2", tls=server_tls, reply=b"hello")
    answers, _calls = dns
    answers["hooks.example.test"] = ["127.0.0.2"]

    webhook_endpoint_create(
        tenant=tenant, url=f"https://hooks.example.test:{server.port}/hook", events=[]
    )
    _emit(tenant, django_capture_on_commit_callbacks)
    attempt = WebhookAttempt.objects.for_tenant(tenant).get()
    if served_name == "hooks.example.test":
        assert attempt.response_status == 200 and attempt.response_body == "hello"
        assert len(server.requests) == 1
    else:
        assert attempt.response_status is None and attempt.response_body == ""
        assert "certificate" in attempt.error.lower() and server.requests == []
