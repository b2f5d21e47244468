def tenancy(request) -> dict:
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": getattr(request, "membership", None),
        "memberships": getattr(request, "memberships", []),
    }
