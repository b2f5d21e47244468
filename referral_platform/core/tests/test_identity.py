"""The one set of identity rules: normalising, hashing, masking, classifying user agents."""

from __future__ import annotations

import pytest

from referral_platform.core import identity


@pytest.mark.parametrize(
    ("raw", "key"),
    [
        ("J.Doe+promo@GoogleMail.com ", "jdoe@gmail.com"),
        ("j.d.o.e@gmail.com", "jdoe@gmail.com"),
        ("jane+news@outlook.com", "jane@outlook.com"),
        ("jane.doe+x@outlook.com", "jane.doe@outlook.com"),  # Outlook keeps its dots
        ("j.doe+x@example.com", "j.doe+x@example.com"),  # a company's `+` may be real
        ("nope", ""),
    ],
)
def test_every_address_of_one_mailbox_has_one_match_key(raw, key):
    assert identity.email_match_key(raw) == key


def test_email_hashes_are_keyed_hashes_of_the_match_key_as_stored_before():
    assert identity.email_hash("J.Doe+a@gmail.com") == identity.keyed_hash(
        "email", "jdoe@gmail.com"
    )
    assert identity.email_hash("x@example.com") != identity.email_hash("y@example.com")


def test_phones_are_e164_via_phonenumbers_and_an_invalid_one_still_matches_itself():
    assert identity.normalize_phone("138 0013 8000") == "+8613800138000"
    assert identity.phone_hash("+86 138-0013-8000") == identity.keyed_hash(
        "phone", "+8613800138000"
    )
    with pytest.raises(ValueError):
        identity.normalize_phone("12345")
    assert identity.phone_match_key("0012345") == "+12345"
    assert identity.phone_hash("12345") == identity.phone_hash(" 12-345 ")


def test_ipv4_networks_are_the_24_and_ipv6_networks_the_48():
    assert identity.normalize_ip("203.0.113.7") == ("203.0.113.7", "203.0.113.0/24")
    assert identity.normalize_ip("2001:db8:1:2::7") == ("2001:db8:1:2::7", "2001:db8:1::/48")
    assert identity.normalize_ip("not an ip") == ("", "")
    home, office = identity.ip_hashes("2001:db8:1:2::7"), identity.ip_hashes("2001:db8:1:ff::9")
    assert home[0] != office[0] and home[1] == office[1]  # two subnets of one site
    assert identity.ip_hashes("203.0.113.7")[1] == identity.ip_hashes("203.0.113.200")[1]
    assert identity.ip_hashes("") == ("", "")


def test_one_masker_for_every_page():
    assert identity.mask_identity(email="lena.w@gmail.com") == "l***@gmail.com"
    assert identity.mask_identity(phone="+8613900139000") == "+86****9000"
    assert identity.mask_identity(name=" 王小明") == "王***"
    assert identity.mask_identity() == ""
    assert identity.mask("phone", "+8613900139000") == "+86****9000"
    assert identity.mask("domain", "Mailinator.COM") == "mailinator.com"
    assert identity.mask("device", "dev-12345678") == "de***78"
    assert identity.mask("payment", "abc") == "****"


@pytest.mark.parametrize(
    ("ua", "kind"),
    [
        ("", "bot"),
        ("facebookexternalhit/1.1", "bot"),
        ("Mozilla/5.0 (compatible; bingpreview/2.0)", "bot"),
        ("python-requests/2.31", "bot"),
        ("Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/124.0 Safari/537.36", "headless"),
        ("Mozilla/5.0 (Windows NT 10.0) Chrome/124.0 Selenium", "headless"),
        ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4) Mobile/15E148 Safari/604.1", "mobile"),
        ("Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/124.0 Safari/537.36", "browser"),
    ],
)
def test_one_user_agent_classifier(ua, kind):
    assert identity.classify_user_agent(ua) == kind
