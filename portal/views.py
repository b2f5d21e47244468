"""The customer's "my referrals" portal. Thin views: read the participant from the session,
validate, call one service or selector, render.

Getting in: a signed session link from the tenant's backend (`/portal/?token=`), or a
mailed magic link (`/portal/login/<token>/`). Either way the participant is stored in the
session and the browser is sent to a clean URL, so the token does not linger in history,
logs or Referer headers.
"""

from __future__ import annotations

import json
import re
import secrets
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from referral_platform.core import clock
from referral_platform.core.errors import DomainError, NotFound
from referral_platform.core.ratelimit import check_ip_limit, limit_per_ip
from referral_platform.tenancy.scoping import tenant_context

from . import rules, selectors, services, tokens
from .language import language_remember, request_language, safe_next

SESSION_KEY = "portal"
_ORIGIN = re.compile(r"^https?://[A-Za-z0-9.-]+(:\d{1,5})?$")


def allow_framing(response, tenant):
    """Portal responses may be framed by the tenant's own origins (and only portal ones:
    the rest of the product keeps X-Frame-Options: DENY)."""
    origins = [
        o for o in (tenant.portal_frame_origins or []) if isinstance(o, str) and _ORIGIN.match(o)
    ]
    response._csp_replace = {"frame-ancestors": ["'self'", *origins]}
    if origins:
        response.xframe_options_exempt = True
    return response


def _login(request, claim: tokens.PortalClaim) -> None:
    # A new session id on every sign-in: a fixed id planted before would otherwise inherit
    # the participant.
    request.session.cycle_key()
    request.session[SESSION_KEY] = {
        "t": claim.tenant_id,
        "p": claim.participant_id,
        "r": claim.return_url,
    }


def _session_participant(request):
    data = request.session.get(SESSION_KEY)
    if not data:
        return None
    try:
        return selectors.participant_for_portal(tenant_id=data["t"], participant_id=data["p"])
    except (NotFound, KeyError, TypeError):
        request.session.pop(SESSION_KEY, None)
        return None


def portal_view(view):
    """The participant from the session, their tenant as the context, their language."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        participant = _session_participant(request)
        if participant is None:
            return redirect("portal:login")
        tenant = participant.tenant
        language = request_language(
            request, participant_locale=participant.locale, tenant_locale=tenant.default_locale
        )
        with tenant_context(tenant), translation.override(language):
            request.portal_participant = participant
            request.LANGUAGE_CODE = language
            try:
                response = view(request, participant, *args, **kwargs)
            except NotFound as exc:
                raise Http404(exc.message) from exc
            if hasattr(response, "render") and callable(response.render):
                response.render()
        response.headers.setdefault("Cache-Control", "private, no-store")
        return allow_framing(response, tenant)

    return wrapper


def _page(request, participant, template: str, context: dict | None = None, status: int = 200):
    data = request.session.get(SESSION_KEY) or {}
    base = {
        "brand_tenant": participant.tenant,
        "participant": participant,
        "return_url": data.get("r", ""),
    }
    return render(request, template, {**base, **(context or {})}, status=status)


def _refusal(request, template: str, status: int, context: dict | None = None):
    return render(request, template, context or {}, status=status)


# --- Getting in ------------------------------------------------------------------------


@require_GET
def portal_entry(request):
    token = request.GET.get("token")
    if token is None:
        return portal_home(request)
    limited = check_ip_limit(request, group="portal_token", rate="60/m")
    if limited is not None:
        return limited
    try:
        claim = tokens.token_read(token, purpose=tokens.SESSION)
        participant = selectors.participant_for_portal(
            tenant_id=claim.tenant_id, participant_id=claim.participant_id
        )
    except tokens.TokenExpired as exc:
        return _refusal(request, "portal/link_expired.html", 410, {"return_url": exc.return_url})
    except tokens.TokenInvalid:
        return _refusal(request, "portal/link_invalid.html", 403)
    except NotFound as exc:
        raise Http404("No such participant.") from exc
    _login(request, claim)
    return allow_framing(redirect("portal:home"), participant.tenant)


@portal_view
def portal_home(request, participant):
    overview = selectors.portal_overview(participant)
    # One nonce per rendered page: submitting the same redeem form twice redeems once.
    nonce = secrets.token_hex(8)
    return _page(
        request, participant, "portal/home.html", {"view": overview, "redeem_nonce": nonce}
    )


@require_http_methods(["GET", "POST"])
@limit_per_ip(rate="10/m", group="portal_login", method="POST")
def portal_login(request):
    """Ask for a sign-in link by email. The answer is the same whether or not the address
    is known, so the form cannot be used to find out who is a customer."""
    sent = False
    error = ""
    email = ""
    if request.method == "POST":
        email = (request.POST.get("email") or "").strip()
        if "@" not in email or len(email) > 254:
            error = _("Enter a valid email address.")
        else:
            # Per address as well as per IP, so one inbox cannot be flooded from many IPs.
            if not _address_limited(request, email):
                services.magic_link_request(email=email)
            sent = True
    return render(
        request,
        "portal/login.html",
        {"sent": sent, "error": error, "email": email if not sent else ""},
        status=422 if error else 200,
    )


def _address_limited(request, email: str) -> bool:
    from django_ratelimit.core import get_usage

    from tracking.identity import email_hash

    digest = email_hash(email)
    usage = get_usage(
        request, group="portal_login_address", key=lambda _g, _r: digest, rate="3/h", increment=True
    )
    return bool(usage and usage["should_limit"])


@require_GET
def portal_magic(request, token: str):
    try:
        claim = services.magic_link_consume(token)
        participant = selectors.participant_for_portal(
            tenant_id=claim.tenant_id, participant_id=claim.participant_id
        )
    except tokens.TokenExpired:
        return _refusal(request, "portal/link_expired.html", 410, {"magic": True})
    except tokens.TokenInvalid:
        return _refusal(request, "portal/link_invalid.html", 403, {"magic": True})
    except NotFound as exc:
        raise Http404("No such participant.") from exc
    _login(request, claim)
    return allow_framing(redirect("portal:home"), participant.tenant)


@require_POST
def portal_logout(request):
    request.session.pop(SESSION_KEY, None)
    return redirect("portal:login")


# --- Actions ---------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@require_POST
@portal_view
def portal_share(request, participant):
    """Beaconed by the share buttons; answers 204 so the tap is never slowed down."""
    try:
        services.share_record(
            participant=participant,
            enrollment_id=_int(request.POST.get("enrollment")),
            channel=request.POST.get("channel", ""),
        )
    except DomainError as exc:
        return JsonResponse(
            {"error": {"code": exc.code, "message": exc.message}}, status=exc.status
        )
    return HttpResponse(status=204)


@require_POST
@portal_view
def portal_message(request, participant):
    try:
        services.personal_message_set(
            participant=participant,
            enrollment_id=_int(request.POST.get("enrollment")),
            message=request.POST.get("message", ""),
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, _("Your message is too long: at most 280 characters."))
    else:
        messages.success(
            request, _("Your message is saved. Friends will see it on your invite page.")
        )
    return redirect(reverse("portal:home") + "#share")


@require_POST
@portal_view
def portal_join(request, participant):
    enrollment, _code = services.program_join(
        participant=participant, program_slug=request.POST.get("program", "")
    )
    messages.success(
        request,
        _("You are in %(program)s: here is your link to share.")
        % {"program": enrollment.program.name},
    )
    return redirect(reverse("portal:home") + "#share")


@require_http_methods(["GET", "POST"])
@portal_view
def portal_choose(request, participant, reward_id: int):
    """Choosing takes a confirmation: the first step names the option, the second commits."""
    overview_reward = selectors.reward_view_get(participant, reward_id)
    index = _int(
        request.POST.get("option") if request.method == "POST" else request.GET.get("option")
    )
    option = next((o for o in overview_reward.options if o["index"] == index), None)
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        if option is None:
            messages.error(request, _("Pick one of the options first."))
            return redirect(reverse("portal:home") + "#choices")
        return _page(
            request,
            participant,
            "portal/choose_confirm.html",
            {
                "reward": overview_reward,
                "option": option,
                # A release date already past is not "expected": the next sweep releases it.
                "expected_at": due
                if (due := overview_reward.reward.due_at) and due > clock.now()
                else None,
            },
        )
    if option is None:
        messages.error(request, _("Pick one of the options first."))
        return redirect(reverse("portal:home") + "#choices")
    try:
        services.reward_choose(participant=participant, reward_id=reward_id, option_index=index)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(request, _("Done: you chose %(option)s.") % {"option": option["text"]})
    return redirect(reverse("portal:home") + "#rewards")


@require_http_methods(["GET", "POST"])
@portal_view
def portal_donate(request, participant, reward_id: int):
    reward = selectors.reward_view_get(participant, reward_id)
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return _page(request, participant, "portal/donate_confirm.html", {"reward": reward})
    try:
        services.reward_donate(participant=participant, reward_id=reward_id)
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Thank you: %(reward)s goes to charity.") % {"reward": reward.value}
        )
    return redirect(reverse("portal:home") + "#rewards")


@require_POST
@portal_view
def portal_redeem(request, participant):
    """Answers with the page: the new balance, and the coupon code in the message."""
    from rewards.selectors import points_balance

    try:
        redemption = services.points_redeem(
            participant=participant,
            enrollment_id=_int(request.POST.get("enrollment")),
            item_key=request.POST.get("item", ""),
            nonce=request.POST.get("nonce", "")[:80],
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    else:
        left = points_balance(tenant=participant.tenant_id, participant_id=participant.pk)
        item = rules.item_text(
            kind=redemption.kind,
            amount_minor=redemption.amount_minor,
            currency=redemption.currency,
            points=None,
            description=redemption.description,
        )
        done = {"item": item, "points": redemption.points, "left": left}
        if redemption.code:
            done["code"] = redemption.code
            text = _(
                "Done: %(item)s for %(points)s points. Your code: %(code)s. Points left: %(left)s."
            )
        else:
            text = _("Done: %(item)s for %(points)s points. Points left: %(left)s.")
        messages.success(request, text % done)
    return redirect(reverse("portal:home") + "#redeem")


@require_GET
@portal_view
def portal_certificate(request, participant, reward_id: int):
    """The e-certificate of one of the participant's own donations, as a PNG download."""
    from rewards.certificates import donation_certificate_png

    reward = selectors.certificate_reward_get(participant, reward_id)
    response = HttpResponse(donation_certificate_png(reward), content_type="image/png")
    response["Content-Disposition"] = f'attachment; filename="certificate-{reward.pk}.png"'
    return response


@require_POST
@portal_view
def portal_dispute(request, participant):
    try:
        services.dispute_file(
            participant=participant,
            message=request.POST.get("message", ""),
            referral_id=_int(request.POST.get("referral")),
        )
    except DomainError as exc:
        if isinstance(exc, NotFound):
            raise
        messages.error(request, exc.message)
    else:
        messages.success(
            request, _("Thank you. We have your message and will answer within 5 business days.")
        )
    return redirect(reverse("portal:home") + "#help")


@require_POST
@portal_view
def portal_tracking(request, participant):
    opted_out = request.POST.get("opt_out") == "1"
    services.participant_tracking_set(participant=participant, opted_out=opted_out)
    if opted_out:
        messages.success(request, _("Tracking is off. New clicks will no longer be linked to you."))
    else:
        messages.success(request, _("Tracking is on again."))
    return redirect(reverse("portal:home") + "#privacy")


@require_GET
@portal_view
def portal_export(request, participant):
    data = services.participant_data_export(participant=participant)
    response = HttpResponse(
        json.dumps(data, ensure_ascii=False, indent=2, default=str),
        content_type="application/json; charset=utf-8",
    )
    response["Content-Disposition"] = 'attachment; filename="my-referral-data.json"'
    return response


@require_http_methods(["GET", "POST"])
@portal_view
def portal_delete(request, participant):
    if request.method == "GET" or request.POST.get("confirm") != "yes":
        return _page(request, participant, "portal/delete_confirm.html")
    tenant = participant.tenant
    services.participant_data_erase(participant=participant)
    request.session.flush()
    return render(request, "portal/deleted.html", {"brand_tenant": tenant})


# --- For the tenant's staff ------------------------------------------------------------


@require_GET
def widget_snippet(request):
    """The copy-paste snippet for the tenant's site, for signed-in staff of a tenant."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('account_login')}?next={request.path}")
    if getattr(request, "tenant", None) is None:
        raise Http404("No workspace.")
    return render(
        request,
        "portal/widget_snippet_page.html",
        {"tenant": request.tenant, "base_url": settings.PUBLIC_BASE_URL},
    )


@require_POST
@portal_view
def portal_language(request, participant):
    """The language switch: kept on the participant (every device, the emails) and in the
    cookie (the pages before sign-in, the invite page)."""
    language = request.POST.get("language", "")
    if language not in rules.SUPPORTED_LANGUAGES:
        return HttpResponse(_("Unknown language."), status=400)
    services.participant_language_set(participant=participant, language=language)
    response = redirect(safe_next(request, reverse("portal:home")))
    return language_remember(request, response, language)
