from django.contrib import admin

from .models import Program, ProgramVersion


class ProgramVersionInline(admin.TabularInline):
    model = ProgramVersion
    fields = ("number", "note", "created_by", "created_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def get_queryset(self, request):
        return ProgramVersion.unscoped.all()


@admin.register(Program)
class ProgramAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "tenant", "status", "currency", "starts_at")
    list_filter = ("status",)
    search_fields = ("name", "slug")
    # Rules change only through the builder or the API, which make a new version.
    readonly_fields = (
        "current_version",
        "status",
        "starts_at",
        "ends_at",
        "landing_url",
        "currency",
    )
    inlines = [ProgramVersionInline]

    def get_queryset(self, request):
        return Program.unscoped.select_related("tenant", "current_version")
