"""Staff pages under /app/settings/webhooks/: the tenant's endpoints, a new endpoint (its
secret shown once), enable/disable, delete, and an endpoint's delivery log with replay.
Every role reads; only the owner changes anything. Thin: one selector or service each."""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from referral_platform.core.errors import DomainError, NotFound, ValidationFailed
from referral_platform.core.net import client_ip
from referral_platform.tenancy.permissions import (
    MANAGE_WEBHOOKS,
    READ,
    has_role,
    tenant_required,
)

from . import selectors, services
from .forms import EndpointForm
from .models import DeliveryStatus


def _endpoint(request, pk: int):
    try:
        return selectors.endpoint_get(tenant=request.tenant, endpoint_id=pk)
    except NotFound:
        raise Http404 from None


@tenant_required(READ)
def endpoint_list(request):
    return render(
        request,
        "webhooks/list.html",
        {"endpoints": selectors.endpoint_list(tenant=request.tenant)},
    )


@tenant_required(MANAGE_WEBHOOKS)
def endpoint_create(request):
    form = EndpointForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            endpoint = services.webhook_endpoint_create(
                tenant=request.tenant,
                url=form.cleaned_data["url"],
                events=form.cleaned_data["events"],
                description=form.cleaned_data["description"],
                actor=request.user,
                ip_address=client_ip(request),
            )
        except ValidationFailed as exc:
            for field, errors in (exc.fields or {None: [exc.message]}).items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            # Rendered, not redirected: this response is the only time the secret is shown.
            response = render(request, "webhooks/created.html", {"endpoint": endpoint})
            response["Cache-Control"] = "no-store"
            return response
    return render(request, "webhooks/form.html", {"form": form})


@tenant_required(READ)
def endpoint_detail(request, pk: int):
    endpoint = _endpoint(request, pk)
    status = request.GET.get("status", "")
    deliveries = selectors.delivery_list(endpoint=endpoint, status=status)
    return render(
        request,
        "webhooks/detail.html",
        {
            "endpoint": endpoint,
            "page": Paginator(deliveries, 25).get_page(request.GET.get("page")),
            "status": status if status in DeliveryStatus.values else "",
            "statuses": DeliveryStatus.choices,
            "can_manage": has_role(request, MANAGE_WEBHOOKS),
        },
    )


@require_POST
@tenant_required(MANAGE_WEBHOOKS)
def endpoint_set_active(request, pk: int):
    endpoint = _endpoint(request, pk)
    active = request.POST.get("active") == "1"
    services.webhook_endpoint_set_active(
        endpoint=endpoint,
        active=active,
        reason="" if active else request.POST.get("reason", "").strip()[:200],
        actor=request.user,
        ip_address=client_ip(request),
    )
    messages.success(request, _("Endpoint enabled.") if active else _("Endpoint disabled."))
    return redirect("webhooks:detail", endpoint.pk)


@require_POST
@tenant_required(MANAGE_WEBHOOKS)
def endpoint_delete(request, pk: int):
    endpoint = _endpoint(request, pk)
    services.webhook_endpoint_delete(
        endpoint=endpoint, actor=request.user, ip_address=client_ip(request)
    )
    messages.success(request, _("Endpoint %(url)s deleted.") % {"url": endpoint.url})
    return redirect("webhooks:list")


@require_POST
@tenant_required(MANAGE_WEBHOOKS)
def delivery_replay(request, pk: int):
    try:
        delivery = selectors.delivery_get(tenant=request.tenant, delivery_id=pk)
    except NotFound:
        raise Http404 from None
    try:
        services.webhook_delivery_replay(
            delivery=delivery, actor=request.user, ip_address=client_ip(request)
        )
    except DomainError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("The delivery is being sent again."))
    return redirect(reverse("webhooks:detail", args=[delivery.endpoint_id]) + f"#d{delivery.pk}")
