"""Exports of admin change lists for coordinators: CSV and XLSX, formula-safe, with the filters.

An `ExportSpec` names the columns of one model; `register()` makes it exportable. The export
view (`/coordinatie/export/<app>/<model>.<csv|xlsx>?<the change list's query string>`) builds
the model's admin change list from the same query string, so the file holds exactly the rows
the coordinator sees (filters, search, ordering), all pages. `ExportMixin` adds the two buttons
to a change list and an action for the selected rows.

A cell that starts with `=`, `+`, `-`, `@`, a tab or a carriage return is written with a
leading apostrophe, so no spreadsheet runs it as a formula; numbers stay numbers.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal

from django.apps import apps
from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, StreamingHttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
XLSX_MAX_ROWS = 1_048_575  # a worksheet's limit, minus the header
CSV_CONTENT_TYPE = "text/csv; charset=utf-8"
XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def safe_cell(value):
    """A value a spreadsheet shows and never runs: text as text, numbers as numbers."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("ja") if value else _("nee")
    if isinstance(value, int | float | Decimal):
        return value
    if isinstance(value, datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value.tzinfo else str(value)
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


@dataclass(frozen=True)
class Column:
    label: str
    value: Callable | str  # a callable on the object, or a dotted attribute path

    def get(self, obj):
        if callable(self.value):
            return self.value(obj)
        for name in self.value.split("."):
            obj = getattr(obj, name, None)
            if obj is None:
                return None
        return obj() if callable(obj) else obj


@dataclass(frozen=True)
class ExportSpec:
    """The columns of one model's export and the joins they need (no query per row)."""

    model: str  # "app_label.model_name"
    columns: list[Column]
    filename: str
    select_related: tuple[str, ...] = ()
    prefetch_related: tuple[str, ...] = field(default_factory=tuple)

    def rows(self, queryset) -> Iterator[list]:
        queryset = queryset.select_related(*self.select_related)
        if self.prefetch_related:
            queryset = queryset.prefetch_related(*self.prefetch_related)
            objects: Iterable = queryset.iterator(chunk_size=2000)
        else:
            objects = queryset.iterator(chunk_size=2000)
        for obj in objects:
            yield [safe_cell(column.get(obj)) for column in self.columns]

    @property
    def header(self) -> list[str]:
        return [str(column.label) for column in self.columns]


REGISTRY: dict[str, ExportSpec] = {}


def register(spec: ExportSpec) -> ExportSpec:
    REGISTRY[spec.model] = spec
    return spec


def spec_for(model) -> ExportSpec | None:
    return REGISTRY.get(model._meta.label_lower)


def can_export(user, model) -> bool:
    """Coordinators: whoever may change a list's records may take them out. The helpdesk only
    views (and takes nothing out); the permissions are cached per request, so this costs no
    query on a page that checked them already."""
    opts = model._meta
    return bool(
        user.is_authenticated
        and user.is_active
        and user.is_staff
        and user.has_perm(f"{opts.app_label}.change_{opts.model_name}")
    )


class _Echo:
    def write(self, value):
        return value


def _filename(spec: ExportSpec, extension: str) -> str:
    return f"{spec.filename}-{timezone.localtime().strftime('%Y%m%d-%H%M')}.{extension}"


def csv_response(spec: ExportSpec, queryset) -> StreamingHttpResponse:
    """Semicolon-separated, UTF-8 with a byte-order mark (as Dutch Excel opens it), streamed."""
    writer = csv.writer(_Echo(), delimiter=";")

    def lines():
        yield "\ufeff"
        yield writer.writerow(spec.header)
        for row in spec.rows(queryset):
            yield writer.writerow(row)

    response = StreamingHttpResponse(lines(), content_type=CSV_CONTENT_TYPE)
    response["Content-Disposition"] = f'attachment; filename="{_filename(spec, "csv")}"'
    return response


def xlsx_response(spec: ExportSpec, queryset) -> FileResponse:
    """One worksheet written row by row (openpyxl's write-only mode keeps memory flat)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=spec.filename[:31])
    sheet.append(spec.header)
    for count, row in enumerate(spec.rows(queryset)):
        if count >= XLSX_MAX_ROWS:
            break
        cells = []
        for value in row:
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text stays text, even if it looks like a formula
            cells.append(cell)
        sheet.append(cells)
    out = tempfile.SpooledTemporaryFile(max_size=20 * 1024 * 1024)  # noqa: SIM115 - FileResponse closes it
    workbook.save(out)
    out.seek(0)
    return FileResponse(
        out,
        as_attachment=True,
        filename=_filename(spec, "xlsx"),
        content_type=XLSX_CONTENT_TYPE,
    )


def export_response(spec: ExportSpec, queryset, fmt: str):
    return xlsx_response(spec, queryset) if fmt == "xlsx" else csv_response(spec, queryset)


def changelist_queryset(model_admin, request):
    """The rows of the model admin's change list for this request's query string, all pages."""
    request.GET = request.GET.copy()
    for ignored in ("p", "e"):
        request.GET.pop(ignored, None)  # every page; an error flag of the list is not a filter
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters as exc:
        raise Http404(_("Onbekend filter in de exportlink.")) from exc
    return changelist.get_queryset(request)


def export_view(request, app_label: str, model_name: str, fmt: str):
    """Download one model's change list as the coordinator filtered it."""
    try:
        model = apps.get_model(app_label, model_name)
    except LookupError as exc:
        raise Http404 from exc
    if not can_export(request.user, model):
        raise PermissionDenied
    spec = spec_for(model)
    model_admin = admin.site._registry.get(model)
    if spec is None or model_admin is None or fmt not in ("csv", "xlsx"):
        raise Http404
    if not model_admin.has_view_or_change_permission(request):
        raise PermissionDenied
    return export_response(spec, changelist_queryset(model_admin, request), fmt)


def export_url(model, fmt: str, query: str = "") -> str:
    """The export link for a model's change list with `query` (its filters), if exportable."""
    url = reverse("coordination:export", args=[model._meta.app_label, model._meta.model_name, fmt])
    return f"{url}?{query}" if query else url


def export_links(model, request) -> list[tuple[str, str]]:
    """The change list's two export buttons (its current query string), for coordinators."""
    if not can_export(request.user, model) or spec_for(model) is None:
        return []
    query = request.GET.urlencode()
    return [
        (_("Exporteren (CSV)"), export_url(model, "csv", query)),
        (_("Exporteren (Excel)"), export_url(model, "xlsx", query)),
    ]


class ExportMixin:
    """Export buttons on the change list (with its filters) and export actions for the
    selected rows. A model's own change_list.html keeps precedence; it can show the buttons
    with `{% include "admin/exports/_buttons.html" %}`."""

    EXPORT_ACTIONS = ("export_selected_csv", "export_selected_xlsx")

    def get_actions(self, request):
        actions = super().get_actions(request)
        if (
            self.actions is not None
            and spec_for(self.model)
            and can_export(request.user, self.model)
        ):
            for name in self.EXPORT_ACTIONS:
                actions[name] = self.get_action(name)
        return actions

    def changelist_view(self, request, extra_context=None):
        extra = {**(extra_context or {}), "export_links": export_links(self.model, request)}
        response = super().changelist_view(request, extra)
        # Only the change list itself (not an action's page) falls back to the one with buttons.
        template = getattr(response, "template_name", None)
        if isinstance(template, list) and template[-1:] == ["admin/change_list.html"]:
            opts = self.model._meta
            response.template_name = [
                f"admin/{opts.app_label}/{opts.model_name}/change_list.html",
                f"admin/{opts.app_label}/change_list.html",
                "admin/exports/change_list.html",
            ]
        return response

    def has_export_permission(self, request):
        return can_export(request.user, self.model)

    @admin.action(
        description=gettext_lazy("Geselecteerde exporteren (CSV)"), permissions=["export"]
    )
    def export_selected_csv(self, request, queryset):
        return self._export_selected(request, queryset, "csv")

    @admin.action(
        description=gettext_lazy("Geselecteerde exporteren (Excel)"), permissions=["export"]
    )
    def export_selected_xlsx(self, request, queryset):
        return self._export_selected(request, queryset, "xlsx")

    def _export_selected(self, request, queryset, fmt):
        spec = spec_for(self.model)
        if spec is None or not can_export(request.user, self.model):
            raise PermissionDenied
        return export_response(spec, queryset.order_by("pk"), fmt)
