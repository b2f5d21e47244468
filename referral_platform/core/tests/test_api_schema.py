"""A text field that may not be blank is described by a pattern that says what DRF keeps:
a value with one character that trimming leaves. The schema's regular expressions are
ECMAScript's, whose white space is not Python's."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
from rest_framework import serializers

from referral_platform.core.api.schema import NOT_STRIPPED

# Every character either language calls white space, and a few it does not.
CHARACTERS = [
    *"\t\n\v\f\r \x1c\x1d\x1e\x1f\x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000\ufeff",
    *(chr(c) for c in range(0x2000, 0x200B)),
    *"a\x01\x1b\x7fé中",
]


def drf_keeps(value: str) -> bool:
    try:
        serializers.CharField().run_validation(value)
    except serializers.ValidationError:
        return False
    return True


def test_the_pattern_matches_what_drf_keeps_in_python():
    assert [c for c in CHARACTERS if bool(re.search(NOT_STRIPPED, c)) != drf_keeps(c)] == []
    assert drf_keeps(" \x1f x ") and not drf_keeps(" \x1f\x85 ")


@pytest.mark.skipif(shutil.which("node") is None, reason="needs Node.js for ECMAScript's regex")
def test_the_pattern_matches_what_drf_keeps_in_ecmascript():
    script = (
        "const [p, cs] = JSON.parse(process.argv[1]);"
        "console.log(JSON.stringify(cs.map(c => new RegExp(p, 'u').test(c))));"
    )
    out = subprocess.run(
        ["node", "-e", script, json.dumps([NOT_STRIPPED, CHARACTERS])],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    matched = json.loads(out)
    assert [c for c, m in zip(CHARACTERS, matched, strict=True) if m != drf_keeps(c)] == []


def test_the_published_schema_carries_the_pattern(client):
    schema = client.get("/api/v1/schema/", HTTP_ACCEPT="application/json").json()
    params = schema["paths"]["/api/v1/redemptions"]["get"]["parameters"]
    participant = next(p for p in params if p["name"] == "participant")["schema"]
    assert {"type": "string", "minLength": 1, "maxLength": 200, "pattern": NOT_STRIPPED} in (
        participant.get("anyOf") or [participant]
    )
