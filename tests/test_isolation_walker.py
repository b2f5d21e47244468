"""Walk every URL and API route as tenant B with tenant A's object ids: read nothing of A.

How it works, so that routes added later are covered without editing this file:
- Tenant A's rows: the apps' demo seed functions (when they exist) plus, for every model
  with a `tenant` foreign key (TenantOwnedModel and the rest) that has no row yet, one row
  filled generically. Every string planted in A contains MARK; A's tenant and owner too.
- Tenant B is created first and has only its owner, its API key and audit entries, so an
  id taken from A can never name one of B's rows.
- Each route from `get_resolver()` (recursively, path and regex patterns) gets its
  parameters filled from A's rows by name: `pk`/`id` and `<model>_id` with primary keys
  (of the model the path names, when it names one), any other name with the attribute of
  that name (`code`, `slug`, `external_id`, `token`, ...), `program_slug` with the
  program's `slug`, `tenant_id` with A's id. A route it cannot fill is skipped with a
  recorded reason.
- UI routes are requested by B's owner (GET, and POST for routes naming an object) and
  anonymously; API routes with B's API key (GET, and POST/PUT/PATCH/DELETE for routes
  naming an object). A route naming one of A's objects must answer 400/403/404/405/422
  (or a redirect to the login page); every response must be free of A's markers.
- Customer-facing pages (outside /app/, /api/, /accounts/) are skipped: there the code or
  token in the URL is what decides the tenant, by design. So is Django's admin.
"""

from __future__ import annotations

import itertools
import re
import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.db import models, transaction
from django.test import Client
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from django.urls.resolvers import RegexPattern, RoutePattern
from django.utils import timezone
from rest_framework.test import APIClient

from referral_platform.core.models import AuditEntry
from referral_platform.tenancy.models import ApiKey, Membership, Tenant
from referral_platform.tenancy.scoping import tenant_context
from referral_platform.tenancy.services import api_key_create, tenant_create

MARK = "zqmark"
MIN_ROUTES_WALKED = 12
MAX_VALUES_PER_PARAM = 30
MAX_PATHS_PER_ROUTE = 40
UI_PREFIXES = ("/app/",)
API_PREFIX = "/api/"
SKIP_PREFIXES = {
    "/admin/": "Django admin: superusers only, not a tenant surface",
    "/static/": "static files",
    "/media/": "public uploads (tenant logos)",
}
OBJECT_STATUSES = {400, 403, 404, 405, 422}
SEEDS = {
    "programs.services.demo_programs_seed": {"slug": "saas-b2b"},
    "demo.data.demo_data_seed": {},
}
ARTIFACT = Path(__file__).resolve().parent.parent / "test-artifacts" / "isolation-walk.txt"

pytestmark = pytest.mark.django_db(transaction=False)


# --- Planting tenant A's rows -------------------------------------------------------


def tenant_models() -> list[type[models.Model]]:
    found = []
    for model in apps.get_models():
        if model._meta.proxy or model._meta.abstract:
            continue
        tenant_field = next((f for f in model._meta.concrete_fields if f.name == "tenant"), None)
        if getattr(tenant_field, "related_model", None) is Tenant:
            found.append(model)
    return found


def rows_of(model, tenant) -> list[models.Model]:
    return list(model._base_manager.filter(tenant=tenant).order_by("pk")[:50])


class Planter:
    def __init__(self, tenant: Tenant, owner):
        self.tenant = tenant
        self.owner = owner
        self.counter = 0
        self.markers: set[str] = set()
        self.notes: list[str] = []

    def marker(self, max_length: int | None = None) -> str:
        self.counter += 1
        value = f"{MARK}{self.counter:04d}"
        if max_length and len(value) > max_length:
            raise ValueError(f"a marker does not fit in {max_length} characters")
        self.markers.add(value)
        return value

    def seed(self) -> None:
        import importlib

        for dotted, kwargs in SEEDS.items():
            module_name, _, func_name = dotted.rpartition(".")
            try:
                func = getattr(importlib.import_module(module_name), func_name, None)
            except ImportError:
                func = None
            if func is None:
                continue
            try:
                with transaction.atomic(), tenant_context(self.tenant):
                    func(tenant=self.tenant, **kwargs)
            except Exception as exc:  # noqa: BLE001 - the generic filler covers the gap
                self.notes.append(f"seed {dotted} failed: {exc!r}")

    def fill_all(self) -> None:
        for model in tenant_models():
            if not rows_of(model, self.tenant):
                try:
                    with transaction.atomic(), tenant_context(self.tenant):
                        self.create(model, depth=0)
                except Exception as exc:  # noqa: BLE001 - recorded, walker still runs
                    self.notes.append(f"could not plant {model._meta.label}: {exc!r}")

    def existing_or_new(self, model, depth: int):
        if model is Tenant:
            return self.tenant
        if model is get_user_model():
            return self.owner
        if any(f.name == "tenant" for f in model._meta.concrete_fields):
            rows = rows_of(model, self.tenant)
            if rows:
                return rows[0]
        return self.create(model, depth + 1)

    def create(self, model, depth: int):
        if depth > 4:
            raise RecursionError(f"foreign keys nest too deep at {model._meta.label}")
        values = {}
        for f in model._meta.concrete_fields:
            if f.primary_key or f.auto_created or getattr(f, "auto_now", False):
                continue
            if getattr(f, "auto_now_add", False):
                continue
            if f.name == "tenant":
                values["tenant"] = self.tenant
                continue
            if f.is_relation:
                if f.null and f.related_model is Tenant:
                    continue
                if f.null and f.related_model not in (get_user_model(),):
                    continue
                values[f.name] = (
                    self.create(f.related_model, depth + 1)
                    if isinstance(f, models.OneToOneField)
                    else self.existing_or_new(f.related_model, depth)
                )
                continue
            value = self.value_for(f)
            if value is not _DEFAULT:
                values[f.name] = value
        obj = model(**values)
        obj.save()
        return obj

    def value_for(self, f):
        if f.choices:
            return (
                f.choices[0][0]
                if not isinstance(f.choices[0][1], (list, tuple))
                else (f.choices[0][1][0][0])
            )
        if isinstance(f, models.EmailField):
            return f"{self.marker()}@{MARK}.test"
        if isinstance(f, models.URLField):
            return f"https://{self.marker()}.example.com/"
        if isinstance(f, models.GenericIPAddressField):
            return "192.0.2.10"
        if isinstance(f, (models.CharField, models.TextField)):
            max_length = getattr(f, "max_length", None)
            if "currency" in f.name:
                return self.tenant.currency
            if max_length and max_length < len(MARK) + 4:
                return "x" * max_length  # too short to carry a marker (codes, flags)
            return self.marker(max_length)
        if isinstance(f, (models.FileField,)):
            return _DEFAULT
        if f.has_default() or f.null:
            return _DEFAULT
        if isinstance(f, models.BooleanField):
            return False
        if isinstance(f, (models.IntegerField, models.BigIntegerField)):
            self.counter += 1
            return 1000 + self.counter
        if isinstance(f, models.DecimalField):
            return Decimal("1")
        if isinstance(f, models.FloatField):
            return 1.0
        if isinstance(f, models.DateTimeField):
            return timezone.now()
        if isinstance(f, models.DateField):
            return date.today()
        if isinstance(f, models.DurationField):
            return timedelta(days=1)
        if isinstance(f, models.UUIDField):
            return uuid.uuid4()
        if isinstance(f, models.JSONField):
            return {}
        if isinstance(f, models.BinaryField):
            return b"x"
        raise TypeError(f"no generic value for {f!r}")


_DEFAULT = object()


# --- Routes -------------------------------------------------------------------------


@dataclass
class Route:
    template: str  # "/app/settings/api-keys/<int:pk>/revoke/" with converters kept
    params: dict[str, re.Pattern] = field(default_factory=dict)
    callback: object = None
    skip: str = ""


_ROUTE_PARAM = re.compile(r"<(?:(?P<conv>[^>:]+):)?(?P<name>\w+)>")


def _route_piece(pattern) -> tuple[str, dict[str, re.Pattern], str]:
    """A pattern as a path template with `{name}` holes, its params' regexes, or a reason."""
    if isinstance(pattern, RoutePattern):
        params = {}
        converters = pattern.converters
        template = str(pattern)

        def hole(m):
            name = m.group("name")
            params[name] = re.compile(converters[name].regex)
            return "{" + name + "}"

        return _ROUTE_PARAM.sub(hole, template), params, ""
    if isinstance(pattern, RegexPattern):
        return _regex_template(pattern.regex.pattern)
    return "", {}, f"unknown pattern type {type(pattern).__name__}"


def _regex_template(regex: str) -> tuple[str, dict[str, re.Pattern], str]:
    text = regex.lstrip("^").rstrip("$").replace(r"\Z", "")
    params = {}
    out, i = [], 0
    while i < len(text):
        if text.startswith("(?P<", i):
            end_name = text.index(">", i)
            name = text[i + 4 : end_name]
            depth, j = 1, end_name + 1
            while depth:
                depth += {"(": 1, ")": -1}.get(text[j], 0)
                j += 1
            params[name] = re.compile(text[end_name + 1 : j - 1])
            out.append("{" + name + "}")
            i = j
            continue
        out.append(text[i])
        i += 1
    template = "".join(out).replace("/?", "/").replace(r"\.", ".").replace(r"\-", "-")
    if re.search(r"[\\()\[\]*+?|]", template):
        return "", {}, f"regex too complex to fill: {regex}"
    return template, params, ""


def all_routes() -> list[Route]:
    routes: list[Route] = []

    def walk(patterns, prefix: str, params: dict, skip: str):
        for p in patterns:
            piece, piece_params, reason = _route_piece(p.pattern)
            merged = {**params, **piece_params}
            why = skip or reason
            if isinstance(p, URLResolver):
                walk(p.url_patterns, prefix + piece, merged, why)
            elif isinstance(p, URLPattern):
                routes.append(Route("/" + prefix + piece, merged, p.callback, why))

    walk(get_resolver().url_patterns, "", {}, "")
    return routes


def _segment_models(template: str) -> set[str]:
    words = set()
    for seg in re.split(r"[/{}]", template):
        norm = seg.replace("-", "").replace("_", "").lower()
        if norm:
            words.update({norm, norm.rstrip("s"), norm.removesuffix("es")})
    return words


@dataclass
class Values:
    tenant: Tenant
    rows: dict[type, list]
    b_pks_by_model: dict[type, set[int]]

    def for_param(self, name: str, template: str) -> list:
        if name == "tenant_id":
            return [self.tenant.pk]
        if name in ("pk", "id") or name.endswith(("_id", "_pk")):
            base = name.rsplit("_", 1)[0].replace("_", "") if "_" in name else ""
            by_attr = self._attr_values(name) if base else []
            if by_attr:
                return by_attr
            wanted = {base} if base else _segment_models(template)
            chosen = [m for m in self.rows if m._meta.model_name in wanted] or list(self.rows)
            pks = [r.pk for m in chosen for r in self.rows[m]]
            # Never an id that also names a row of B (of the models the path could mean).
            b_pks = set().union(*(self.b_pks_by_model.get(m, set()) for m in chosen))
            return [pk for pk in dict.fromkeys(pks) if pk not in b_pks]
        values = self._attr_values(name)
        if not values and "_" in name:
            model_name, _, attr = name.partition("_")
            values = [
                getattr(r, attr)
                for m, rs in self.rows.items()
                if m._meta.model_name == model_name.replace("_", "")
                for r in rs
                if hasattr(r, attr)
            ]
        return [v for v in dict.fromkeys(values) if v not in (None, "")]

    def _attr_values(self, name: str) -> list:
        values = []
        for rows in self.rows.values():
            for row in rows:
                try:
                    value = getattr(row, name)
                except Exception:  # noqa: BLE001, S112 - a property that needs more context
                    continue
                if isinstance(value, (str, int)) and not isinstance(value, bool):
                    values.append(value)
        return values


def fill(route: Route, values: Values) -> tuple[list[str], str]:
    if not route.params:
        return [route.template], ""
    choices = []
    for name, regex in route.params.items():
        candidates = [
            str(v) for v in values.for_param(name, route.template) if regex.fullmatch(str(v))
        ]
        if not candidates:
            return [], f"no value of tenant A fits <{name}>"
        choices.append((name, candidates[:MAX_VALUES_PER_PARAM]))
    names = [n for n, _ in choices]
    paths = []
    for combo in itertools.islice(itertools.product(*[c for _, c in choices]), MAX_PATHS_PER_ROUTE):
        path = route.template
        for name, value in zip(names, combo, strict=True):
            path = path.replace("{" + name + "}", value)
        paths.append(path)
    return paths, ""


# --- The walk -----------------------------------------------------------------------


@pytest.fixture
def world(db):
    tenant_b = tenant_create(
        name="Bravo Isolated", slug="bravo-isolated", owner_email="owner@bravo.test"
    )
    key_row, key_b = api_key_create(tenant=tenant_b, name="bravo")
    # B keeps only what it needs, under ids far above A's, so no id of A names a row of B.
    AuditEntry.unscoped.filter(tenant=tenant_b).delete()
    Membership.objects.filter(tenant=tenant_b).update(id=9_000_001)
    ApiKey.unscoped.filter(pk=key_row.pk).update(id=9_000_002)
    owner_a_email = f"owner@{MARK}-a.test"
    tenant_a = tenant_create(
        name=f"{MARK} Tenant A", slug=f"{MARK}-tenant-a", owner_email=owner_a_email
    )
    owner_a = get_user_model().objects.get(email=owner_a_email)
    planter = Planter(tenant_a, owner_a)
    planter.markers.update({f"{MARK} Tenant A", owner_a_email})
    api_key_create(tenant=tenant_a, name=planter.marker())
    planter.seed()
    planter.fill_all()
    rows = {m: rows_of(m, tenant_a) for m in tenant_models()}
    rows = {m: r for m, r in rows.items() if r}
    b_pks_by_model = {m: {r.pk for r in rows_of(m, tenant_b)} for m in tenant_models()}
    owner_b = get_user_model().objects.get(email="owner@bravo.test")
    return {
        "values": Values(tenant_a, rows, b_pks_by_model),
        "planter": planter,
        "owner_b": owner_b,
        "key_b": key_b,
        "tenant_a": tenant_a,
    }


def _is_login_redirect(response) -> bool:
    return response.status_code in (301, 302, 303) and "login" in response.get("Location", "")


def test_no_route_shows_tenant_a_to_tenant_b(world):
    values, planter = world["values"], world["planter"]
    ui = Client(raise_request_exception=False)
    ui.force_login(world["owner_b"])
    anonymous = Client(raise_request_exception=False)
    api = APIClient(raise_request_exception=False)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {world['key_b']}")

    walked, skipped, failures = [], [], []

    def check(kind, method, path, response, names_object):
        body = b"".join(response.streaming_content) if response.streaming else response.content
        text = body.decode("utf-8", "replace")
        leaked = sorted(m for m in planter.markers if m in text and m not in path)
        if leaked:
            failures.append(f"{kind} {method} {path}: body shows tenant A's {leaked[:3]}")
        status = response.status_code
        if status >= 500:
            failures.append(f"{kind} {method} {path}: {status}")
        elif names_object and status not in OBJECT_STATUSES and not _is_login_redirect(response):
            failures.append(f"{kind} {method} {path}: {status} for tenant A's object")

    for route in all_routes():
        if route.skip:
            skipped.append((route.template, route.skip))
            continue
        if getattr(route.callback, "public_by_token", False) or getattr(
            getattr(route.callback, "view_class", None), "public_by_token", False
        ):
            skipped.append((route.template, "marked public_by_token"))
            continue
        prefix_reason = next(
            (why for p, why in SKIP_PREFIXES.items() if route.template.startswith(p)), ""
        )
        is_api = route.template.startswith(API_PREFIX)
        is_staff = route.template.startswith(UI_PREFIXES)
        if prefix_reason or not (is_api or is_staff or not route.params):
            skipped.append(
                (route.template, prefix_reason or "public page: its code/token decides the tenant")
            )
            continue
        paths, reason = fill(route, values)
        if reason:
            skipped.append((route.template, reason))
            continue
        names_object = bool(route.params)
        for path in paths:
            try:
                if resolve(path.split("?")[0]).func is not route.callback:
                    continue  # an earlier pattern answers this path; it is walked there
            except Resolver404:
                continue  # the filled value does not route
            if is_api:
                check("api", "GET", path, api.get(path), names_object)
                if names_object:
                    for method in ("post", "put", "patch", "delete"):
                        response = getattr(api, method)(path, {}, format="json")
                        check("api", method.upper(), path, response, True)
            else:
                check("ui", "GET", path, ui.get(path), names_object)
                if names_object:
                    check("ui", "POST", path, ui.post(path, {}), True)
                    response = anonymous.get(path)
                    if response.status_code < 400 and not _is_login_redirect(response):
                        failures.append(f"anonymous GET {path}: {response.status_code}")
        walked.append(route.template)

    ARTIFACT.parent.mkdir(exist_ok=True)
    ARTIFACT.write_text(
        "walked:\n"
        + "".join(f"  {t}\n" for t in walked)
        + "skipped:\n"
        + "".join(f"  {t}  — {why}\n" for t, why in skipped)
        + "planting notes:\n"
        + "".join(f"  {n}\n" for n in planter.notes)
        + "failures:\n"
        + "".join(f"  {f}\n" for f in failures)
    )
    assert not failures, "\n".join(failures[:50])
    assert len(walked) >= MIN_ROUTES_WALKED, f"only {len(walked)} routes walked: {walked}"
    object_routes = [t for t in walked if "{" in t]
    assert len(object_routes) >= 4, f"too few routes naming an object: {object_routes}"


def test_walker_fills_route_and_regex_parameters(world):
    values = world["values"]
    keys = [r for r in all_routes() if r.template == "/app/settings/api-keys/{pk}/revoke/"]
    assert keys, "the API keys revoke route is missing"
    paths, reason = fill(keys[0], values)
    assert not reason and paths
    assert _regex_template(r"^participants/(?P<external_id>[^/.]+)/$")[0] == (
        "participants/{external_id}/"
    )
