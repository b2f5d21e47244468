"""docs/program-spec.md: its smallest program validates and each plan's fragment is what
that plan's template says; the schema documents every field; staff read it signed in."""

import json
import re
from pathlib import Path

import pytest

from programs.spec import SCHEMA, validate_spec
from programs.templates_data import ARCHETYPES
from programs.tests.conftest import signed_in

DOC = Path(__file__).resolve().parents[2] / "docs" / "program-spec.md"
BLOCK = re.compile(r"^```json( [a-z0-9-]+)?\n(.*?)^```", re.M | re.S)


def blocks() -> list[tuple[str, dict]]:
    return [(name.strip(), json.loads(body)) for name, body in BLOCK.findall(DOC.read_text())]


def test_the_doc_shows_a_complete_program_and_each_of_the_three_plans():
    names = [name for name, _body in blocks()]
    assert names.count("") == 1
    assert {"saas-b2b", "green-home", "study-together"} <= set(names)


def test_every_example_of_the_doc_is_true():
    for name, body in blocks():
        if not name:
            assert validate_spec(body) == []
            continue
        template = ARCHETYPES[name](2026)
        for key, value in body.items():
            if isinstance(value, list):
                assert all(part in template[key] for part in value), (name, key)
            else:
                assert value == template[key], (name, key)


def _fields(schema: dict, path: str = ""):
    for name, child in (schema.get("properties") or {}).items():
        yield f"{path}.{name}" if path else name, child
        yield from _fields(child, f"{path}.{name}" if path else name)
    for key in ("items", "additionalProperties"):
        if isinstance(schema.get(key), dict):
            yield from _fields(schema[key], f"{path}[]")
    for key in ("oneOf", "anyOf"):
        for option in schema.get(key) or ():
            yield from _fields(option, path)


def test_every_field_of_the_schema_has_a_title_a_description_and_a_unit():
    fields = list(_fields(SCHEMA)) + [
        (f"$defs.{name}.{p}", c) for name, d in SCHEMA["$defs"].items() for p, c in _fields(d)
    ]
    assert len(fields) > 150
    undocumented = [
        p for p, c in fields if not (c.get("title") and c.get("description") and c.get("x-unit"))
    ]
    assert undocumented == []
    assert SCHEMA["properties"]["budget"]["x-unit"] == "minor"


@pytest.mark.django_db
def test_a_signed_in_staff_member_reads_the_schema_and_the_field_reference(analyst, marketer):
    client = signed_in(analyst)
    response = client.get("/app/programs/_spec/schema.json")
    assert response.status_code == 200
    assert response.json()["properties"]["budget"]["x-unit"] == "minor"
    text = client.get("/app/programs/_spec/").content.decode()
    assert "<code>stages[].rewards[].amount</code>" in text and "minor units" in text
    page = signed_in(marketer).get("/app/programs/").content.decode()
    assert 'href="/app/programs/_spec/"' in page
    from django.test import Client

    assert Client().get("/app/programs/_spec/schema.json").status_code == 302
