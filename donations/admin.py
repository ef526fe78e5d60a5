"""The coordinators' side of donations: find, schedule, decline, export; devices to look up."""

from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from allemaal.admin import StatusEventInline, ask_reason
from allemaal.admin_speed import FastChangeListMixin, organisation_filter
from allemaal.exports import Column, ExportMixin, ExportSpec, register
from allemaal.services import DomainError
from allemaal.subqueries import related_count

from . import services
from .admin_search import device_codes
from .forms import SchedulePickupForm
from .models import (
    Device,
    DeviceEvent,
    Donation,
    DonationEvent,
    DonationPolicy,
    Manifest,
    ManifestImport,
    parse_reference,
)
from .outcomes import device_outcome


class DonationEventInline(StatusEventInline):
    model = DonationEvent


class ManifestInline(admin.TabularInline):
    model = Manifest
    extra = 0
    can_delete = False
    fields = ["uploaded_at", "file_name", "rows", "uploaded_by"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("uploaded_by")


EXPORT_COLUMNS = [
    (_("referentie"), lambda d: d.reference),
    (_("donateur"), lambda d: d.donor.name),
    (_("KvK-nummer"), lambda d: d.donor.kvk_number),
    (_("status"), lambda d: d.get_status_display()),
    (_("laptops"), lambda d: d.laptops),
    (_("Chromebooks"), lambda d: d.chromebooks),
    (_("tablets"), lambda d: d.tablets),
    (_("opladers"), lambda d: d.chargers),
    (_("ontvangen laptops"), lambda d: d.received_laptops),
    (_("ontvangen Chromebooks"), lambda d: d.received_chromebooks),
    (_("ontvangen tablets"), lambda d: d.received_tablets),
    (_("ontvangen opladers"), lambda d: d.received_chargers),
    (_("bouwjaar vanaf"), lambda d: d.year_from),
    (_("bouwjaar tot en met"), lambda d: d.year_to),
    (_("merken"), lambda d: d.brands),
    (_("al gewist"), lambda d: _("ja") if d.already_wiped else _("nee")),
    (_("ophaaladres"), lambda d: d.pickup_street),
    (_("postcode"), lambda d: d.pickup_postcode),
    (_("plaats"), lambda d: d.pickup_city),
    (_("provincie"), lambda d: d.pickup_province),
    (_("ophalen vanaf"), lambda d: d.pickup_window_start),
    (_("ophalen uiterlijk"), lambda d: d.pickup_window_end),
    (_("contactpersoon"), lambda d: d.contact_name),
    (_("telefoon"), lambda d: d.contact_phone.as_national if d.contact_phone else ""),
    (_("ophaaldatum"), lambda d: d.pickup_date),
    (_("opknappartner"), lambda d: d.refurbisher.name if d.refurbisher else ""),
    (_("reden"), lambda d: d.status_reason),
    (_("aangemeld op"), lambda d: d.created_at),
]
register(
    ExportSpec(
        "donations.donation",
        [Column(label, value) for label, value in EXPORT_COLUMNS],
        filename="donaties",
        select_related=("donor", "refurbisher"),
    )
)
register(
    ExportSpec(
        "donations.device",
        [
            Column(_("serienummer"), "serial_number"),
            Column(_("apparaatcode"), "asset_tag"),
            Column(_("soort"), "get_kind_display"),
            Column(_("merk"), "make"),
            Column(_("model"), "model"),
            Column(_("bouwjaar"), "year"),
            Column(_("werkgeheugen (GB)"), "ram_gb"),
            Column(_("opslag (GB)"), "storage_gb"),
            Column(_("kwaliteit"), "grade"),
            Column(_("status"), "get_state_display"),
            Column(_("status sinds"), "state_changed_at"),
            Column(_("donatie"), "donation.reference"),
            Column(_("donateur"), "donation.donor.name"),
            Column(_("opknappartner"), "donation.refurbisher.name"),
            Column(_("eigen code van de donateur"), "donor_asset_tag"),
            Column(_("uitkomst"), lambda device: device_outcome(device).label),
            Column(_("toelichting uitkomst"), lambda device: device_outcome(device).detail),
        ],
        filename="apparaten",
        select_related=("donation__donor", "donation__refurbisher"),
    )
)


def _device_count():
    """Devices on a donation's list, as a subquery: evaluated for the rows of one page only
    (a GROUP BY over every donation and device would cost a full join per page)."""
    return related_count(Device, "donation")


@admin.register(Donation)
class DonationAdmin(FastChangeListMixin, ExportMixin, admin.ModelAdmin):
    list_display = [
        "reference",
        "donor",
        "donor_kvk",
        "status",
        "pledged_devices",
        "device_count",
        "pickup_province",
        "pickup_date",
        "refurbisher",
        "created_at",
    ]
    list_select_related = ["donor", "refurbisher"]
    list_filter = [
        "status",
        organisation_filter("refurbisher", "refurbisher", _("opknappartner")),
        "pickup_province",
        "created_at",
        "pickup_date",
    ]
    search_fields = ["donor__name", "=donor__kvk_number", "pickup_city", "=pickup_postcode"]
    search_help_text = _("Zoek op referentie (DON-2026-00042), bedrijfsnaam, KvK-nummer of plaats.")
    readonly_fields = [
        "reference",
        "donor",
        "status",
        "refurbisher",
        "pickup_date",
        "status_reason",
        "received_laptops",
        "received_chromebooks",
        "received_tablets",
        "received_chargers",
        "consent_transfer",
        "created_by",
        "created_at",
    ]
    inlines = [DonationEventInline, ManifestInline]
    actions = ["schedule_pickup", "decline"]
    # Newest first by the primary key: an index scan (created_at has no index of its own).
    ordering = ["-id"]

    def has_add_permission(self, request):
        # Donations are registered by donors (with consent and the batch-size policy).
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_device_count=_device_count())

    @admin.display(description=_("KvK-nummer"), ordering="donor__kvk_number")
    def donor_kvk(self, donation):
        return donation.donor.kvk_number

    @admin.display(description=_("aangemeld"))
    def pledged_devices(self, donation):
        return donation.pledged_devices

    @admin.display(description=_("op de lijst"))
    def device_count(self, donation):
        return donation._device_count

    def get_search_results(self, request, queryset, search_term):
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        pk = parse_reference(search_term)
        if pk is not None:
            results |= queryset.filter(pk=pk)
        return results, may_have_duplicates

    @admin.action(description=_("Ophalen plannen (datum en opknappartner)"), permissions=["change"])
    def schedule_pickup(self, request, queryset):
        form = SchedulePickupForm(request.POST if "apply" in request.POST else None)
        if not form.is_valid():
            return TemplateResponse(
                request,
                "admin/ask_reason.html",
                {
                    **self.admin_site.each_context(request),
                    "title": _("Ophalen plannen"),
                    "form": form,
                    "objects": queryset,
                    "action": request.POST.get("action"),
                    "checkbox_name": ACTION_CHECKBOX_NAME,
                    "opts": self.model._meta,
                },
            )
        done = 0
        for donation in queryset:
            try:
                services.donation_schedule_pickup(
                    donation.pk,
                    by=request.user,
                    pickup_date=form.cleaned_data["pickup_date"],
                    refurbisher=form.cleaned_data["refurbisher"],
                )
                done += 1
            except DomainError as exc:
                self.message_user(request, f"{donation}: {exc}", messages.ERROR)
        if done:
            self.message_user(
                request,
                ngettext("%(n)d donatie ingepland.", "%(n)d donaties ingepland.", done)
                % {"n": done},
                messages.SUCCESS,
            )
        return None

    @admin.action(description=_("Afwijzen (met reden)"), permissions=["change"])
    def decline(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            title=_("Donaties afwijzen"),
            apply=lambda donation, reason: services.donation_decline(
                donation.pk, by=request.user, reason=reason
            ),
        )


class DeviceEventInline(StatusEventInline):
    model = DeviceEvent
    status_fields = ("from_state", "to_state")
    fields = ["at", "from_label", "to_label", "organisation", "by", "note"]
    readonly_fields = fields
    verbose_name_plural = _("herkomst en bewaring (chain of custody)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("organisation")


@admin.register(Device)
class DeviceAdmin(FastChangeListMixin, ExportMixin, admin.ModelAdmin):
    list_display = [
        "serial_number",
        "asset_tag",
        "kind",
        "make",
        "model",
        "state",
        "state_changed_at",
        "donation",
    ]
    list_select_related = ["donation"]
    list_filter = [
        "state",
        "kind",
        organisation_filter("donation__refurbisher", "refurbisher", _("opknappartner")),
    ]
    search_fields = ["=serial_number", "=asset_tag"]
    # Exact matches on the unique indexes; `=field` would compare UPPER(field), unindexed.
    exact_search = device_codes()
    search_help_text = _("Zoek op serienummer of apparaatcode (precies zoals op het label).")
    ordering = ["-id"]
    raw_id_fields = ["donation"]
    readonly_fields = ["donation", "state", "state_changed_at", "created_at"]
    inlines = [DeviceEventInline]

    def has_add_permission(self, request):
        # Devices enter through a donor's manifest or the refurbisher's intake.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(DonationPolicy)
class DonationPolicyAdmin(admin.ModelAdmin):
    list_display = ["__str__", "individual_donations_open", "min_batch_size", "updated_at"]
    fields = ["individual_donations_open", "min_batch_size"]

    def has_add_permission(self, request):
        # The admin's menu asks this on every page; only the policy's own pages pay the query
        # (elsewhere the menu links to the policy's list, which offers "add" while it is empty).
        match = getattr(request, "resolver_match", None)
        if match is None or not (match.url_name or "").startswith("donations_donationpolicy"):
            return False
        return not DonationPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ManifestImport)
class ManifestImportAdmin(admin.ModelAdmin):
    """Asset lists on their way in, read only: coordinators see stuck jobs and queue one again."""

    list_display = [
        "file_name",
        "organisation",
        "donation",
        "status",
        "rows_read",
        "total_errors",
        "created_at",
        "finished_at",
    ]
    list_filter = ["status"]
    list_select_related = ["donation__donor"]
    search_fields = ["file_name", "donation__donor__name"]
    ordering = ["-created_at"]
    date_hierarchy = "created_at"
    fields = [
        "donation",
        "organisation",
        "uploaded_by",
        "file_name",
        "status",
        "rows_read",
        "total_errors",
        "errors_shown",
        "personal_columns",
        "skipped",
        "manifest",
        "created_at",
        "finished_at",
    ]
    readonly_fields = fields
    actions = ["requeue"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_requeue_permission(self, request):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    @admin.display(description=_("organisatie"), ordering="donation__donor__name")
    def organisation(self, job):
        return job.donation.donor

    @admin.display(description=_("fouten"))
    def errors_shown(self, job):
        return "\n".join(
            f"{e.get('row') or '–'} {e.get('column') or ''}: {e.get('message')}"
            for e in job.errors[:50]
        )

    @admin.action(description=_("Opnieuw in de wachtrij zetten"), permissions=["requeue"])
    def requeue(self, request, queryset):
        done = 0
        for job in queryset:
            try:
                services.manifest_import_requeue(job.pk, by=request.user)
            except DomainError as exc:
                self.message_user(request, str(exc), messages.WARNING)
            else:
                done += 1
        if done:
            self.message_user(
                request,
                ngettext(
                    "%(n)d lijst staat weer in de wachtrij.",
                    "%(n)d lijsten staan weer in de wachtrij.",
                    done,
                )
                % {"n": done},
                messages.SUCCESS,
            )
