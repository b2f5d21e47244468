from .permissions import (
    EDIT_PROGRAMS,
    MANAGE_KEYS,
    MANAGE_PAYOUTS,
    MANAGE_TEAM,
    MANAGE_WEBHOOKS,
    REVIEW,
)


def tenancy(request) -> dict:
    membership = getattr(request, "membership", None)
    role = membership.role if membership is not None else None
    return {
        "current_tenant": getattr(request, "tenant", None),
        "current_membership": membership,
        "memberships": getattr(request, "memberships", []),
        # What the current role may do, for showing or hiding buttons; views still check.
        "role_can": {
            "edit_programs": role in EDIT_PROGRAMS,
            "review": role in REVIEW,
            "manage_team": role in MANAGE_TEAM,
            "manage_keys": role in MANAGE_KEYS,
            "manage_webhooks": role in MANAGE_WEBHOOKS,
            "manage_payouts": role in MANAGE_PAYOUTS,
            "manage_settings": role in MANAGE_TEAM,
            "read_audit": role in MANAGE_TEAM,
        },
    }
