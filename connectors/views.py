"""Staff pages under /app/settings/connectors/ and the providers' inbound endpoints. Every
role reads the settings and the log; only the owner changes anything."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST
from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from referral_platform.core.api.views import TenantAPIView
from referral_platform.core.errors import NotFound, ValidationFailed
from referral_platform.core.net import client_ip
from referral_platform.tenancy.models import Role
from referral_platform.tenancy.permissions import READ, has_role, tenant_required

from . import outbound, selectors, services
from .crm import crm_connection_save
from .forms import ConnectorForm, CrmForm, PayoutProviderForm
from .models import Kind
from .providers import segment_in

MANAGE_CONNECTORS = {Role.OWNER}


def inbound_url(kind: str, tenant) -> str:
    base = settings.PUBLIC_BASE_URL
    if kind == Kind.SEGMENT:
        return f"{base}{reverse('connectors_api:segment')}"
    return f"{base}{reverse(f'connectors_hooks:{kind}', args=[tenant.slug])}"


# --- Staff pages -------------------------------------------------------------------------


@tenant_required(READ)
def connector_list(request):
    rows = []
    for kind, connector in selectors.connector_list(tenant=request.tenant).items():
        last = selectors.delivery_list(connector=connector).first() if connector else None
        rows.append({"kind": kind, "label": Kind(kind).label, "connector": connector, "last": last})
    return render(
        request,
        "connectors/list.html",
        {
            "rows": rows,
            "payout_provider": selectors.payout_provider_get(tenant=request.tenant),
            "crm": selectors.crm_get(tenant=request.tenant),
        },
    )


@tenant_required(READ)
def connector_detail(request, kind: str):
    try:
        connector = selectors.connector_get(tenant=request.tenant, kind=kind)
    except NotFound:
        connector = None
    can_manage = has_role(request, MANAGE_CONNECTORS)
    initial = {"is_active": connector.is_active if connector else True}
    if kind == Kind.SEGMENT:
        initial["mapping"] = segment_in.mapping_text(
            connector.mapping if connector else segment_in.DEFAULT_MAPPING
        )
    form = ConnectorForm(
        request.POST or None, kind=kind, configured=connector is not None, initial=initial
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            try:
                services.connector_save(
                    tenant=request.tenant,
                    kind=kind,
                    secret=form.cleaned_data["secret"],
                    is_active=form.cleaned_data["is_active"],
                    mapping=form.cleaned_data.get("mapping"),
                    actor=request.user,
                    ip_address=client_ip(request),
                )
            except ValidationFailed as exc:
                for field, errors in (exc.fields or {None: [exc.message]}).items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, _("Connector saved."))
                return redirect("connectors:detail", kind=kind)
    deliveries = list(selectors.delivery_list(connector=connector)[:50]) if connector else []
    return render(
        request,
        "connectors/detail.html",
        {
            "kind": kind,
            "label": Kind(kind).label,
            "connector": connector,
            "form": form,
            "can_manage": can_manage,
            "url": inbound_url(kind, request.tenant),
            "deliveries": deliveries,
        },
    )


@require_POST
@tenant_required(MANAGE_CONNECTORS)
def connector_rotate(request, kind: str):
    try:
        connector = selectors.connector_get(tenant=request.tenant, kind=kind)
    except NotFound:
        raise Http404 from None
    services.connector_secret_rotate(
        connector=connector, actor=request.user, ip_address=client_ip(request)
    )
    messages.success(request, _("A new secret was generated: paste it into Segment."))
    return redirect("connectors:detail", kind=kind)


@tenant_required(READ)
def payout_provider(request):
    stored = selectors.payout_provider_get(tenant=request.tenant)
    can_manage = has_role(request, MANAGE_CONNECTORS)
    initial = {"kind": stored.kind if stored else "csv", "live": stored.live if stored else False}
    if stored:
        initial["client_id"] = stored.client_id
    form = PayoutProviderForm(request.POST or None, stored=stored, initial=initial)
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            outbound.payout_provider_save(
                tenant=request.tenant,
                **form.cleaned_data,
                actor=request.user,
                ip_address=client_ip(request),
            )
            messages.success(request, _("Payout settings saved."))
            return redirect("connectors:payouts")
    return render(
        request,
        "connectors/payouts.html",
        {
            "form": form,
            "stored": stored,
            "can_manage": can_manage,
            "transfers": selectors.transfer_list(tenant=request.tenant),
        },
    )


@tenant_required(READ)
def crm_settings(request):
    stored = selectors.crm_get(tenant=request.tenant)
    can_manage = has_role(request, MANAGE_CONNECTORS)
    form = CrmForm(
        request.POST or None,
        stored=stored,
        initial={"is_active": stored.is_active if stored else True},
    )
    if request.method == "POST":
        if not can_manage:
            raise PermissionDenied
        if form.is_valid():
            crm_connection_save(tenant=request.tenant, **form.cleaned_data, actor=request.user)
            messages.success(request, _("CRM settings saved."))
            return redirect("connectors:crm")
    return render(
        request,
        "connectors/crm.html",
        {
            "form": form,
            "stored": stored,
            "can_manage": can_manage,
            "pushes": selectors.push_list(tenant=request.tenant),
        },
    )


@tenant_required(READ)
def delivery_detail(request, pk: int):
    try:
        delivery = selectors.delivery_get(tenant=request.tenant, delivery_id=pk)
    except NotFound:
        raise Http404 from None
    return render(request, "connectors/delivery.html", {"delivery": delivery})


# --- Inbound endpoints ---------------------------------------------------------------------


def _answer(delivery) -> JsonResponse:
    # Every verified delivery is acknowledged, even one we ignore: a provider retries
    # anything else for days.
    return JsonResponse(
        {"status": delivery.outcome, "id": delivery.pk, "event_ids": delivery.event_ids}
    )


def _refused(message: str) -> JsonResponse:
    return JsonResponse(
        {"error": {"code": "signature_invalid", "message": message, "fields": {}}}, status=400
    )


def _not_found() -> JsonResponse:
    return JsonResponse(_not_found_body(), status=404)


@csrf_exempt
@require_POST
def stripe_hook(request, tenant: str):
    try:
        delivery = services.stripe_receive(
            tenant=services.tenant_by_slug(tenant),
            body=request.body,
            signature=request.headers.get("Stripe-Signature"),
        )
    except NotFound:
        return _not_found()
    except services.Refused as exc:
        return _refused(str(exc))
    return _answer(delivery)


@csrf_exempt
@require_POST
def shopify_hook(request, tenant: str):
    try:
        delivery = services.shopify_receive(
            tenant=services.tenant_by_slug(tenant),
            body=request.body,
            signature=request.headers.get("X-Shopify-Hmac-Sha256"),
            topic=request.headers.get("X-Shopify-Topic", ""),
        )
    except NotFound:
        return _not_found()
    except services.Refused as exc:
        return _refused(str(exc))
    return _answer(delivery)


class SegmentReceive(TenantAPIView):
    """Segment's Webhooks destination: `Authorization: Bearer <api key>` and the connector's
    shared secret as `X-Signature`."""

    @extend_schema(request=dict, responses={200: dict, 400: dict, 404: dict})
    def post(self, request):
        # The signature covers the raw bytes; read them before DRF parses anything.
        body = request._request.body
        try:
            delivery = services.segment_receive(
                tenant=request.tenant, body=body, signature=request.headers.get("X-Signature")
            )
        except NotFound:
            return Response(_not_found_body(), status=404)
        except services.Refused as exc:
            return Response(
                {"error": {"code": "signature_invalid", "message": str(exc), "fields": {}}},
                status=400,
            )
        return Response(
            {"status": delivery.outcome, "id": delivery.pk, "event_ids": delivery.event_ids}
        )


def _not_found_body() -> dict:
    return {"error": {"code": "not_found", "message": "No such connector.", "fields": {}}}
