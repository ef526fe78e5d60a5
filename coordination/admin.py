from django.contrib import admin

from .models import DashboardSnapshot


@admin.register(DashboardSnapshot)
class DashboardSnapshotAdmin(admin.ModelAdmin):
    """When the dashboard's numbers were computed, how long it took and how much changed."""

    list_display = ["computed_at", "seconds", "full_rebuild", "facts_refreshed"]
    fields = ["computed_at", "started_at", "seconds", "full_rebuild", "facts_refreshed"]
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
