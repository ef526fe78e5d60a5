"""The coordinators' daily digests that were sent (read only)."""

from django.contrib import admin

from ..models import CoordinatorDigest


@admin.register(CoordinatorDigest)
class CoordinatorDigestAdmin(admin.ModelAdmin):
    list_display = ["day", "new_requests", "flagged_duplicates", "recipients", "created_at"]
    readonly_fields = [f.name for f in CoordinatorDigest._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
