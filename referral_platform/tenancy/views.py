from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from .middleware import SESSION_KEY
from .permissions import tenant_required


@tenant_required()
def home(request):
    return render(request, "tenancy/home.html")


@require_POST
@tenant_required()
def switch_tenant(request, tenant_id: int):
    if not any(m.tenant_id == tenant_id for m in request.memberships):
        raise Http404
    request.session[SESSION_KEY] = tenant_id
    return redirect("tenancy:home")
