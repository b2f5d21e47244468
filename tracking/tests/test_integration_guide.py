"""Every `bash` and `python` block of docs/integration.md, run in order against a live server."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

GUIDE = Path(__file__).resolve().parents[2] / "docs" / "integration.md"
BLOCK = re.compile(r"^```(bash|python)\n(.*?)^```", re.M | re.S)


def blocks() -> list[tuple[str, str]]:
    return BLOCK.findall(GUIDE.read_text())


def test_the_guide_has_runnable_curl_and_python_examples():
    kinds = [kind for kind, _ in blocks()]
    assert kinds.count("bash") >= 3 and kinds.count("python") >= 3


@pytest.mark.django_db(transaction=True)
def test_the_integration_guide_examples_run_against_a_live_server(live_server, tenant, api_key):
    from programs.services import program_create
    from tracking.models import Referral, ReferralCode
    from tracking.tests.conftest import make_spec

    program_create(tenant=tenant, spec=make_spec(), actor=None)
    env = {**os.environ, "BASE_URL": live_server.url, "API_KEY": api_key, "PROGRAM": "friends"}
    for kind, source in blocks():
        code = ReferralCode.objects.for_tenant(tenant).values_list("code", flat=True).first()
        env["CODE"] = code or ""
        command = (
            ["bash", "-euo", "pipefail", "-c", source]
            if kind == "bash"
            else [sys.executable, "-c", source]
        )
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0, (
            f"{kind} block failed:\n{source}\n--- stdout\n{done.stdout}\n--- stderr\n{done.stderr}"
        )
    referral = Referral.objects.for_tenant(tenant).get()
    assert (referral.referrer.external_id, referral.referee.external_id, referral.status) == (
        "cust-1001",
        "cust-2002",
        "converted",
    )
