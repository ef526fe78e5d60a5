from django.contrib import admin

from .models import DashboardSnapshot
from .todo import waiting


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


def index_with_waiting(index):
    """Wrap the admin site's index view: coordinators see what waits for them on top."""

    def view(request, extra_context=None):
        extra_context = dict(extra_context or {})
        if request.user.is_active and getattr(request.user, "is_coordinator", False):
            extra_context["waiting"] = waiting()
        return index(request, extra_context)

    return view
