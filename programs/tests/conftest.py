from html.parser import HTMLParser

import pytest
from django.test import Client

from programs import services
from programs.templates_data import ARCHETYPES


def signed_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def draft_of(tenant, template: str):
    """The archetype `template` (year 2026) as a draft program of `tenant`."""
    spec = ARCHETYPES[template](year=2026)
    spec["status"] = "draft"
    return services.program_create(tenant=tenant, spec=spec, actor=None)


@pytest.fixture
def green(tenant):
    return draft_of(tenant, "green-home")


@pytest.fixture
def saas(tenant):
    return draft_of(tenant, "saas-b2b")


@pytest.fixture
def study(tenant):
    return draft_of(tenant, "study-together")


class FormData(HTMLParser):
    """What a browser posts for the rendered fields (inputs, selected options, textareas)."""

    def __init__(self) -> None:
        super().__init__()
        self.data: list[tuple[str, str]] = []
        self._select = None
        self._textarea = None
        self.ids: list[str] = []
        self.label_for: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if (
            "id" in attrs
            and tag in ("input", "select", "textarea")
            and attrs.get("type") != "hidden"
        ):
            self.ids.append(attrs["id"])
        if tag == "label" and "for" in attrs:
            self.label_for.append(attrs["for"])
        if tag == "input" and attrs.get("name"):
            self.data.append((attrs["name"], attrs.get("value", "")))
        elif tag == "select":
            self._select = [attrs["name"], None, None]
        elif tag == "option" and self._select is not None:
            if self._select[2] is None:
                self._select[2] = attrs.get("value", "")
            if "selected" in attrs:
                self._select[1] = attrs.get("value", "")
        elif tag == "textarea":
            self._textarea = [attrs["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "select" and self._select is not None:
            name, chosen, first = self._select
            self.data.append((name, chosen if chosen is not None else first))
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.data.append(tuple(self._textarea))
            self._textarea = None


def section_data(client, slug: str, section: str, changes: dict | None = None) -> dict:
    """What the section's form posts as rendered now, with `changes` (by field path) typed in."""
    form = FormData()
    form.feed(client.get(f"/app/programs/{slug}/edit/{section}/").content.decode())
    data = {k: v for k, v in form.data if k != "csrfmiddlewaretoken"}
    data.update(changes or {})
    return data
