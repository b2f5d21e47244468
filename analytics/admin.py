from django.contrib import admin

from .models import Goal, ProgramTargets, RollupState


class _ReadOnly(admin.ModelAdmin):
    """Admin lists cross tenants, so it uses the unscoped manager; edits go through the UI."""

    def get_queryset(self, request):
        return self.model.unscoped.all()

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Goal)
class GoalAdmin(_ReadOnly):
    list_display = ("tenant", "program", "metric", "comparator", "target", "starts_on", "ends_on")


@admin.register(ProgramTargets)
class ProgramTargetsAdmin(_ReadOnly):
    list_display = ("tenant", "program", "monthly_budget_minor", "target_cpra_minor")


@admin.register(RollupState)
class RollupStateAdmin(_ReadOnly):
    list_display = ("tenant", "watermark", "last_run_at", "days_refreshed")
