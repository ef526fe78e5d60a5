from pathlib import Path

from allauth.account.admin import EmailAddressAdmin
from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import admin_privacy, services
from .admin_a11y import LabelledFieldsMixin
from .admin_speed import FastChangeListMixin, cached_choices
from .forms import ReasonForm
from .models import (
    Invitation,
    Membership,
    Notification,
    Organisation,
    OrganisationEvent,
    User,
)


def ask_reason(modeladmin, request, queryset, *, title: str, apply):
    """An admin action that first asks for a reason, then applies `apply(obj, reason)`."""
    form = ReasonForm(request.POST if "apply" in request.POST else None)
    if form.is_valid():
        done = 0
        for obj in queryset:
            try:
                apply(obj, form.cleaned_data["reason"])
                done += 1
            except services.DomainError as exc:
                modeladmin.message_user(request, f"{obj}: {exc}", messages.ERROR)
        modeladmin.message_user(request, _("%(n)d verwerkt.") % {"n": done}, messages.SUCCESS)
        return None
    return TemplateResponse(
        request,
        "admin/ask_reason.html",
        {
            **modeladmin.admin_site.each_context(request),
            "title": title,
            "form": form,
            "objects": queryset,
            "action": request.POST.get("action"),
            "checkbox_name": ACTION_CHECKBOX_NAME,
            "opts": modeladmin.model._meta,
        },
    )


class StatusEventInline(admin.TabularInline):
    """A record's history, read-only, oldest first, each status by its name rather than its code.

    The model names its status fields in `status_fields` (from, to) and turns a code into a label
    with `status_label(code)`: StatusEvent does, and so does the devices' chain of custody."""

    status_fields = ("from_status", "to_status")
    extra = 0
    can_delete = False
    fields = ["at", "from_label", "to_label", "by", "note"]
    readonly_fields = fields
    verbose_name_plural = _("geschiedenis")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        # Each row's title names its record: joined here, not fetched once per row.
        subject = getattr(self.model, "subject", "") or "device"
        return super().get_queryset(request).select_related("by", subject.removesuffix("_id"))

    @admin.display(description=_("van"))
    def from_label(self, event):
        return event.status_label(getattr(event, self.status_fields[0]))

    @admin.display(description=_("naar"))
    def to_label(self, event):
        return event.status_label(getattr(event, self.status_fields[1]))


class MembershipInline(LabelledFieldsMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


class OrganisationEventInline(StatusEventInline):
    """Who verified or rejected the organisation, when and why."""

    model = OrganisationEvent


@admin.register(Organisation)
class OrganisationAdmin(FastChangeListMixin, admin.ModelAdmin):
    # Status second: the column coordinators decide by stays on screen at 1280 px.
    list_display = [
        "name",
        "status",
        "kind",
        "sector",
        "kvk_number",
        "brin_code",
        "province",
        "created_at",
    ]
    list_filter = ["status", "kind", "sector", "province"]
    search_fields = ["name", "=kvk_number", "=brin_code", "postcode", "city"]
    readonly_fields = [
        "status",
        "status_reason",
        "status_changed_at",
        "status_changed_by",
        "created_at",
    ]
    # Newest first by the primary key: an index scan, where created_at has no index.
    ordering = ["-id"]
    inlines = [MembershipInline, OrganisationEventInline]
    actions = ["verify", "reject"]
    list_select_related = ["status_changed_by"]

    @admin.action(description=_("Controleren en goedkeuren"), permissions=["change"])
    def verify(self, request, queryset):
        for organisation in queryset:
            services.organisation_verify(organisation, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(n)d organisatie goedgekeurd.",
                "%(n)d organisaties goedgekeurd.",
                queryset.count(),
            )
            % {"n": queryset.count()},
            messages.SUCCESS,
        )

    @admin.action(description=_("Afwijzen (met reden)"), permissions=["change"])
    def reject(self, request, queryset):
        return ask_reason(
            self,
            request,
            queryset,
            title=_("Organisaties afwijzen"),
            apply=lambda org, reason: services.organisation_reject(
                org, by=request.user, reason=reason
            ),
        )


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    """Superusers manage staff; coordinators see organisation users only, and only the fields
    they need: never rights, groups, staff or superuser flags, nor anyone's password."""

    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "last_login"]
    list_filter = ["is_staff", "is_active", "groups"]
    search_fields = ["email", "first_name", "last_name"]
    fieldsets = [
        (None, {"fields": ["email", "password", "language"]}),
        (_("Persoon"), {"fields": ["first_name", "last_name"]}),
        (_("Rechten"), {"fields": ["is_active", "is_staff", "is_superuser", "groups"]}),
        (_("Data"), {"fields": ["last_login", "date_joined"]}),
    ]
    coordinator_fieldsets = [
        (None, {"fields": ["email", "language"]}),
        (_("Persoon"), {"fields": ["first_name", "last_name"]}),
        (_("Toegang"), {"fields": ["is_active"]}),
        (_("Data"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    # Plain labelled multiple-select for the groups: Django's two-box widget puts aria-label on
    # an icon (axe: aria-prohibited-attr). Log-in dates are facts, not fields (their split
    # date/time inputs have no labels of their own).
    filter_horizontal = []
    readonly_fields = ["last_login", "date_joined"]
    actions = [admin_privacy.export_personal_data, admin_privacy.erase_personal_data]

    def get_queryset(self, request):
        users = super().get_queryset(request)
        if request.user.is_superuser:
            return users
        # Staff accounts are out of a coordinator's reach: not listed, not found, not changed.
        return users.filter(is_staff=False, is_superuser=False)

    def get_fieldsets(self, request, obj=None):
        if obj is not None and not request.user.is_superuser:
            return self.coordinator_fieldsets
        return super().get_fieldsets(request, obj)

    def get_readonly_fields(self, request, obj=None):
        if request.user.is_superuser:
            return super().get_readonly_fields(request, obj)
        # The address is the log-in and where reset links go: changing it would hand the
        # account to whoever chose the new one.
        return ["email", "last_login", "date_joined"]

    def get_list_display(self, request):
        if request.user.is_superuser:
            return self.list_display
        return ["email", "first_name", "last_name", "is_active", "last_login"]

    def get_list_filter(self, request):
        return self.list_filter if request.user.is_superuser else ["is_active"]

    def has_add_permission(self, request):
        # New accounts: organisation users sign up; staff are made by a superuser
        # (here or with `manage.py create_staff`).
        return request.user.is_superuser

    def user_change_password(self, request, id, form_url=""):
        if not request.user.is_superuser:
            raise PermissionDenied
        return super().user_change_password(request, id, form_url)


class NotificationKindFilter(admin.SimpleListFilter):
    """The kinds of e-mail as fixed choices (one per e-mail template), never a
    `SELECT DISTINCT kind` over the whole outbox."""

    title = _("soort")
    parameter_name = "kind__exact"

    def lookups(self, request, model_admin):
        return cached_choices("admin-filter:notification-kinds", _email_kinds, seconds=3600)

    def queryset(self, request, queryset):
        return queryset.filter(kind=self.value()) if self.value() else queryset


def _email_kinds() -> list[tuple[str, str]]:
    folder = Path(settings.BASE_DIR) / "templates" / "emails"
    kinds = sorted(p.name.removesuffix("_subject.txt") for p in folder.glob("*_subject.txt"))
    return [(kind, kind) for kind in kinds]


@admin.register(Notification)
class NotificationAdmin(FastChangeListMixin, admin.ModelAdmin):
    list_display = ["created_at", "kind", "to_email", "status", "attempts", "sent_at"]
    list_filter = ["status", NotificationKindFilter]
    search_fields = ["to_email"]  # shows the search box; exact_search decides
    # An address as typed and in lower case, on the index of addresses (never a LIKE).
    exact_search = {"to_email": lambda term: list({term.strip(), term.strip().lower()} - {""})}
    search_help_text = _("Het e-mailadres, precies.")
    # Never the sealed copy: it holds the one-time link until the mail is sent.
    fields = [
        "created_at",
        "kind",
        "to_email",
        "recipient",
        "language",
        "status",
        "attempts",
        "sent_at",
        "next_attempt_at",
        "give_up_at",
        "last_error",
        "one_time_link",
        "subject",
        "body_text",
        "body_html",
    ]
    readonly_fields = fields
    actions = ["requeue"]
    date_hierarchy = None

    def has_add_permission(self, request):
        return False

    @admin.action(description=_("Opnieuw versturen"), permissions=["change"])
    def requeue(self, request, queryset):
        for notification in queryset:
            try:
                services.notification_requeue(notification, request=request)
            except services.DomainError as exc:
                self.message_user(request, f"{notification}: {exc}", messages.ERROR)
        self.message_user(request, _("Opnieuw in de wachtrij gezet."), messages.SUCCESS)


@admin.register(Invitation)
class InvitationAdmin(admin.ModelAdmin):
    list_display = ["email", "organisation", "role", "created_at", "accepted_at"]
    list_select_related = ["organisation"]
    search_fields = ["=email", "organisation__name"]
    readonly_fields = ["token_hash", "invited_by", "created_at", "accepted_at"]


# allauth's e-mail addresses: marking one verified is a change, never a view-only action.
admin.site.unregister(EmailAddress)


@admin.register(EmailAddress)
class VerifiedEmailAddressAdmin(EmailAddressAdmin):
    @admin.action(description=_("Markeren als bevestigd"), permissions=["change"])
    def make_verified(self, request, queryset):
        return super().make_verified(request, queryset)
