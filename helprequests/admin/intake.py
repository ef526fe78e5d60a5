"""Coordinators open and close intake per target group and device type, with a reason."""

from django.contrib import admin
from django.utils import timezone

from allemaal.admin_a11y import LabelledListEditableMixin

from ..models import IntakeSwitch


@admin.register(IntakeSwitch)
class IntakeSwitchAdmin(LabelledListEditableMixin, admin.ModelAdmin):
    list_display = ["target_group", "device_type", "is_open", "reason", "changed_by", "changed_at"]
    list_editable = ["is_open", "reason"]
    list_filter = ["is_open", "device_type", "target_group"]
    list_select_related = ["changed_by"]
    readonly_fields = ["changed_by", "changed_at"]

    def save_model(self, request, obj, form, change):
        obj.changed_by = request.user
        obj.changed_at = timezone.now()
        super().save_model(request, obj, form, change)
