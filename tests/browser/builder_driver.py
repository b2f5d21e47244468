"""Drive the program builder's forms like a person: for a target spec, click “Add” for each
repeating part, pick each choice and type each value, section by section, then save. Only
clicks, choices and typing: no JSON, no request crafted by hand."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from programs import specforms
from programs.spec.schema import COPY_LANGUAGES
from programs.specforms import (
    SCHEMA,
    _is_condition,
    _is_map,
    _is_scalar_list,
    _is_text,
    _type,
    resolve,
)
from referral_platform.core.money import to_major

MISSING = object()


class Builder:
    def __init__(self, page, base_url: str, slug: str, *, currency="CNY", tz="Asia/Shanghai"):
        self.page = page
        self.base = base_url
        self.slug = slug
        self.currency = currency
        self.tz = ZoneInfo(tz)

    # ------------------------------------------------------------------ page helpers
    def _nonce(self) -> str:
        return self.page.locator("#section-body").get_attribute("data-nonce")

    def _click(self, action: str) -> None:
        """Press an add/remove/move button and wait for the form to be redrawn."""
        before = self._nonce()
        self.page.locator(f'[data-testid="{action.replace(":", "-")}"]').first.click()
        self._redrawn(before)

    def _redrawn(self, before: str) -> None:
        # A new form, and htmx done with it: new nodes get their handlers when the swap
        # settles (20 ms after it), so a select changed before that would send nothing.
        self.page.wait_for_function(
            """n => document.querySelector('#section-body').dataset.nonce !== n
                   && !document.querySelector('.htmx-swapping, .htmx-settling')""",
            arg=before,
        )

    def _exists(self, selector: str) -> bool:
        return self.page.locator(selector).count() > 0

    # ------------------------------------------------------------------ sections
    def build(self, spec: dict, sections: list[str] | None = None) -> None:
        for section, _title, keys in specforms.SECTIONS:
            if sections is not None and section not in sections:
                continue
            self.page.goto(f"{self.base}/app/programs/{self.slug}/edit/{section}/")
            props = SCHEMA["properties"]
            for key in keys:
                value = spec.get(key, MISSING)
                self.fill(
                    props[key],
                    MISSING if value is None else value,
                    key,
                    required=key in SCHEMA["required"],
                )
            self.save(section)

    def save(self, section: str) -> None:
        url = self.page.url
        # Let the as-you-type check (400 ms after the last input) finish first.
        self.page.wait_for_timeout(500)
        self.page.wait_for_function("() => !document.querySelector('.htmx-request')")
        self.page.click("[data-testid=save-section]")
        self.page.wait_for_load_state()
        if self.page.url == url:
            problems = self.page.locator("[data-testid=problems]").inner_text()
            raise AssertionError(f"{section} was not saved: {problems}")

    # ------------------------------------------------------------------ values
    def fill(self, schema: dict, value, path: str, *, required: bool) -> None:
        if _is_condition(schema):
            return self.condition(value, path)
        if _is_text(schema):
            return self.copy_text(value, path)
        schema = resolve(schema)
        if "const" in schema:
            return None
        kind = _type(schema)
        if kind == "object":
            return self.object(schema, value, path, required=required)
        if kind == "array" and not _is_scalar_list(schema):
            return self.array(schema, value, path)
        return self.scalar(schema, value, path)

    def object(self, schema, value, path, *, required) -> None:
        in_array = path.endswith("]")
        if not required and not in_array:
            present = self._exists(f'[name="{path}.__present"]')
            if value is MISSING:
                if present:
                    self._click(f"remove:{path}")
                return
            if not present:
                self._click(f"add:{path}")
        value = {} if value is MISSING else value
        if "properties" in schema:
            needed = set(schema.get("required") or ())
            for name, child in schema["properties"].items():
                if child.get("x-unit") == "count|minor" and value.get("measure") == "amount":
                    self.page.fill(
                        f'[name="{path}.{name}"]', str(to_major(value[name], self.currency))
                    )
                    continue
                self.fill(
                    child, value.get(name, MISSING), f"{path}.{name}", required=name in needed
                )
        elif (schema.get("propertyNames") or {}).get("enum"):
            for name in schema["propertyNames"]["enum"]:
                self.fill(
                    schema["additionalProperties"],
                    value.get(name, MISSING),
                    f"{path}.{name}",
                    required=False,
                )
        elif _is_map(schema):
            while self._exists(f'[name="{path}[0].__key"]'):
                self._click(f"remove:{path}[0]")
            for index, (key, entry) in enumerate(value.items()):
                self._click(f"add:{path}")
                self.page.fill(f'[name="{path}[{index}].__key"]', key)
                self.object(
                    schema["additionalProperties"], entry, f"{path}[{index}]", required=True
                )
        elif value:
            raise NotImplementedError(f"{path}: free JSON is not typed by this driver")

    def copy_text(self, value, path) -> None:
        """A text a customer reads: one field per language (one string fills each)."""
        if value is MISSING:
            value = {}
        elif isinstance(value, str):
            value = dict.fromkeys(COPY_LANGUAGES, value)
        for code in COPY_LANGUAGES:
            self.page.fill(f'[name="{path}.{code}"]', value.get(code, ""))

    def array(self, schema, value, path) -> None:
        while self._exists(f'[data-path="{path}[0]"]'):
            self._click(f"remove:{path}[0]")
        for index, item in enumerate([] if value is MISSING else value):
            self._click(f"add:{path}")
            self.fill(schema["items"], item, f"{path}[{index}]", required=True)

    def scalar(self, schema, value, path) -> None:
        field = self.page.locator(f'[name="{path}"]')
        text = self.text(schema, value)
        if field.evaluate("e => e.tagName") == "SELECT":
            field.select_option(text)
        else:
            field.fill(text)

    def text(self, schema, value) -> str:
        if value is MISSING:
            # A choice with a default (an FAQ entry's audience) shows it when absent.
            return schema.get("default", "")
        if value is None:
            return "null"
        if isinstance(value, bool):
            return "true" if value else "false"
        if schema.get("x-unit") == "minor" and isinstance(value, int):
            return str(to_major(value, self.currency))
        if schema.get("format") == "date-time":
            moment = datetime.fromisoformat(value).astimezone(self.tz)
            return moment.strftime("%Y-%m-%dT%H:%M")
        if isinstance(value, list):
            return ", ".join("/".join(v) if isinstance(v, list) else str(v) for v in value)
        return str(value)

    def condition(self, value, path) -> None:
        kind = ""
        if value is not MISSING and value:
            kind = next((k for k in ("all", "any", "not", "segment") if k in value), "field")
        select = self.page.locator(f'[name="{path}.__type"]')
        if select.input_value() != kind:
            before = self._nonce()
            select.select_option(kind)
            self._redrawn(before)
        if kind in ("all", "any"):
            while self._exists(f'[data-path="{path}.{kind}[0]"]'):
                self._click(f"remove:{path}.{kind}[0]")
            for index, child in enumerate(value[kind]):
                self._click(f"add:{path}.{kind}")
                self.condition(child, f"{path}.{kind}[{index}]")
        elif kind == "not":
            self.condition(value["not"], f"{path}.not")
        elif kind == "segment":
            self.page.fill(f'[name="{path}.segment"]', value["segment"])
            self.page.locator(f'[name="{path}.of"]').select_option(value.get("of", ""))
        elif kind == "field":
            self.page.fill(f'[name="{path}.field"]', value["field"])
            self.page.locator(f'[name="{path}.op"]').select_option(value["op"])
            shown = value.get("value", "")
            if isinstance(shown, list):
                shown = ", ".join(map(str, shown))
            elif isinstance(shown, bool):
                shown = "true" if shown else "false"
            self.page.fill(f'[name="{path}.value"]', str(shown))


def normalized(spec: dict, keys=None) -> dict:
    """The spec without what the builder does not choose (slug, status, version) and without
    empty values; only `keys` when given."""
    out = {
        k: v
        for k, v in spec.items()
        if k not in ("slug", "status", "spec_version") and v is not None
    }
    if keys is not None:
        out = {k: v for k, v in out.items() if k in keys}
    return out
