"""Change lists that stay fast at a million rows: one query for the page and its count.

Django's change list counts every matching row (`SELECT COUNT(*)`) before it reads a page, and
once more without filters; at a million rows each count costs more than the page itself.
`FastChangeListMixin` reads the page and its total in one query:

- without filters or search, the total is PostgreSQL's own row estimate (`reltuples` in
  `pg_class`, kept by ANALYZE/autovacuum); small or never-analysed tables are counted exactly;
- with filters or search, the matching rows are counted up to a cap (`count_cap`): the page
  then says "meer dan 10000" instead of scanning the rest of the table.

Both are an uncorrelated scalar subquery of the page query, which the database evaluates once.
With `show_full_result_count = False`, filters with fixed choices (never a `SELECT DISTINCT`
over the table to find them), `list_select_related`, an indexed default ordering and search on
exact, indexed codes, a change list costs the session, the user, the user's permissions and
this one query.
"""

from __future__ import annotations

import contextlib
import datetime
import html
from time import monotonic
from urllib.parse import quote

from django.contrib import admin
from django.contrib.admin import utils as admin_utils
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.options import IncorrectLookupParameters
from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.views.main import ChangeList
from django.core.cache import cache
from django.core.exceptions import FieldDoesNotExist, ObjectDoesNotExist
from django.core.paginator import Paginator
from django.db import connection, models
from django.db.models import F, Lookup, Q
from django.db.models.expressions import RawSQL
from django.urls import NoReverseMatch
from django.utils import translation
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from allemaal.fast_urls import fast_reverse

TOTAL = "_changelist_total"


def _capped_count_sql(queryset, cap: int) -> tuple[str, tuple]:
    inner = queryset.order_by().values("pk")[: cap + 1]
    sql, params = inner.query.sql_with_params()
    return f"SELECT COUNT(*) FROM ({sql}) AS capped", params  # noqa: S608 - compiled by the ORM


def total_expression(queryset, *, filtered: bool, cap: int) -> RawSQL:
    """The total as a scalar subquery: an estimate when unfiltered on PostgreSQL, else a count
    of at most cap + 1 rows (cap + 1 means "more than cap")."""
    count_sql, count_params = _capped_count_sql(queryset, cap)
    if filtered or connection.vendor != "postgresql":
        return RawSQL(f"({count_sql})", count_params)  # noqa: S611 - SQL compiled by the ORM
    table = connection.ops.quote_name(queryset.model._meta.db_table)
    estimate = "SELECT reltuples FROM pg_class WHERE oid = %s::regclass"
    # The exact (capped) count runs only for a small or never-analysed table.
    sql = f"(SELECT CASE WHEN ({estimate}) >= %s THEN ({estimate})::bigint ELSE ({count_sql}) END)"
    return RawSQL(sql, (table, cap, table, *count_params))  # noqa: S611 - values are params


class _AnyOf(Lookup):
    """`lhs = ANY(rhs)` for an array on the right (PostgreSQL)."""

    lookup_name = "any_of"

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", [*lhs_params, *rhs_params]


def any_of(field: str, ids):
    """A filter `field IN ids` for a few ids chosen by a subquery. On PostgreSQL as
    `field = ANY(ARRAY(subquery))`: the ids are found once, then looked up on an index of
    `field`, where an `IN (subquery)` may be planned as a join over the whole table."""
    if connection.vendor != "postgresql":
        return Q(**{f"{field}__in": ids})
    from django.contrib.postgres.expressions import ArraySubquery

    return _AnyOf(F(field), ArraySubquery(ids))


def on_page(queryset, offset: int, limit: int):
    """A filter for the rows of one page of `queryset` (their ids chosen first)."""
    return any_of("pk", queryset.values("pk")[offset : offset + limit])


class FastChangeList(ChangeList):
    """Reads the page and its total in one query (see the module's docstring)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # Each row's link carries the list's filters (`_changelist_filters`), written here as
        # Django writes them: Django adds them to every row through `add_preserved_filters`,
        # which resolves the row's URL to learn it is not this list (100 `resolve()` calls a
        # filtered page, ~10 ms). Nothing else reads `cl.preserved_filters`.
        self.row_filters, self.preserved_filters = self.preserved_filters, ""

    def url_for_result(self, result) -> str:
        pk = getattr(result, self.pk_attname)
        if type(pk) is int:  # Django's quote() leaves an int as it is
            url = fast_reverse(
                f"admin:{self.opts.app_label}_{self.opts.model_name}_change",
                args=(pk,),
                current_app=self.model_admin.admin_site.name,
            )
        else:
            url = super().url_for_result(result)
        return f"{url}?{self.row_filters}" if self.row_filters else url

    def get_results(self, request):
        model_admin = self.model_admin
        per_page, cap = self.list_per_page, model_admin.count_cap
        filtered = bool(self.queryset.query.where)
        offset = (self.page_num - 1) * per_page
        exact = self.known_total()
        expression = (
            exact
            if exact is not None
            else total_expression(self.queryset, filtered=filtered, cap=cap)
        )
        rows = self.page_rows(expression, offset, per_page)
        if rows:
            total = int(getattr(rows[0], TOTAL))
        elif self.page_num > 1:
            raise IncorrectLookupParameters
        else:
            total = 0
        # cap + 1 comes from the capped count ("more than cap"); a larger unfiltered total is
        # PostgreSQL's estimate; a short page is the last one, so then the total is exact.
        self.count_is_capped = exact is None and (total == cap + 1 or (filtered and total > cap))
        self.count_is_estimate = exact is None and not self.count_is_capped and total > cap
        if len(rows) < per_page:
            total = offset + len(rows)
            self.count_is_capped = self.count_is_estimate = False
        elif self.count_is_capped:
            total = cap
        total = max(total, offset + len(rows))
        paginator = Paginator([], per_page)
        paginator.count = total  # a cached_property: this paginator never counts
        self.paginator = paginator
        self.result_count = total
        self.full_result_count = None
        self.show_full_result_count = False
        self.show_admin_actions = True
        self.result_list = rows
        self.can_show_all = False
        self.multi_page = total > per_page

    def known_total(self):
        """An expression for the exact total that something else keeps, for a list whose own
        count would read more than its page (None: count, capped, or estimate)."""
        return None

    def page_rows(self, total: RawSQL, offset: int, limit: int) -> list:
        """One page of rows, each annotated with the total."""
        rows = self.queryset.annotate(**{TOTAL: total})[offset : offset + limit]
        return list(without_unshown_phones(rows, self.list_display))


def unshown_phone_fields(queryset, shown) -> list[str]:
    """The phone numbers of `queryset`'s rows, and of the rows read with them
    (`select_related`), that the list does not show (`shown`: its list_display). Each one read
    is parsed by `phonenumbers` as it is loaded, about 50 microseconds a number: on a change list
    of 100 rows with three of them, a fifth of the page's time for numbers nobody sees."""
    from phonenumber_field.modelfields import PhoneNumberField

    shown = {name for name in shown if isinstance(name, str)}
    found: list[str] = []

    def walk(model, prefix: str, related) -> None:
        for field in model._meta.concrete_fields:
            path = prefix + field.name
            if isinstance(field, PhoneNumberField) and path not in shown:
                found.append(path)
        if isinstance(related, dict):  # `True` (every relation) is left alone
            for name, deeper in related.items():
                walk(model._meta.get_field(name).related_model, f"{prefix}{name}__", deeper)

    walk(queryset.model, "", queryset.query.select_related)
    return found


def without_unshown_phones(queryset, shown):
    """`queryset` with `unshown_phone_fields` deferred (see there)."""
    fields = unshown_phone_fields(queryset, shown)
    return queryset.defer(*fields) if fields else queryset


class FastChangeListMixin:
    """Put first in a ModelAdmin's bases. With `exact_search` (`{field: normaliser}`, where a
    normaliser returns the stored form of a typed code, or a list of candidate forms), a search
    finds codes by an exact match on their index (serial number, asset tag) and nothing else:
    `LIKE '%term%'` or `UPPER(field) = UPPER(term)` over a million rows cannot use an index."""

    show_full_result_count = False
    count_cap = 10_000
    exact_search: dict = {}

    def get_changelist(self, request, **kwargs):
        return FastChangeList

    def action_checkbox(self, obj):
        """Django's checkbox of each row, the same HTML written out: Django renders a form
        widget's template for it, a tenth of a change list's time at 100 rows."""
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            str(obj.pk),
            format_html(_("Select this object for an action - {}"), str(obj)),
        )

    def lookup_allowed(self, lookup, value, request=None):
        # A filter of this list across two relations (organisation_filter on
        # "donation__refurbisher") names its own parameter; Django would refuse it.
        own = {
            item.parameter_name
            for item in self.get_list_filter(request)
            if isinstance(item, type) and issubclass(item, admin.SimpleListFilter)
        }
        return lookup in own or super().lookup_allowed(lookup, value, request)

    def get_search_results(self, request, queryset, search_term):
        if not self.exact_search:
            return super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if not term:
            return queryset, False
        match = Q()
        for field, normalise in self.exact_search.items():
            value = normalise(term)
            if isinstance(value, list | tuple | set):
                match |= Q(**{f"{field}__in": sorted(value)}) if value else Q()
            elif value:
                match |= Q(**{field: value})
        return (queryset.filter(match) if match else queryset.none()), False


def cached_choices(key: str, load, *, seconds: int = 300) -> list[tuple[str, str]]:
    """Filter choices read from a small table once per `seconds` (a filter shows no query)."""
    choices = cache.get(key)
    if choices is None:
        choices = [(str(value), str(label)) for value, label in load()]
        cache.set(key, choices, seconds)
    return choices


def organisation_filter(field: str, kind: str, title):
    """A list filter on an organisation key with the verified organisations of one kind as
    fixed choices: no `SELECT DISTINCT` over the big table to find which ones occur."""

    class OrganisationFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__id__exact"

        def lookups(self, request, model_admin):
            from allemaal.models import Organisation

            return cached_choices(
                f"admin-filter:organisations:{kind}",
                lambda: (
                    Organisation.objects.filter(kind=kind)
                    .order_by("name")
                    .values_list("id", "name")
                ),
            )

        def queryset(self, request, queryset):
            value = self.value()
            if value and value.isdigit():
                return queryset.filter(**{f"{field}_id": int(value)})
            return queryset

    OrganisationFilter.title = title
    return OrganisationFilter


def organisations_named(term: str):
    """Ids of the organisations whose name contains `term`: a pattern match on the small
    organisation table, then an index lookup on the big list (`any_of("organisation_id", ...)`)
    instead of a pattern match over a join of the whole list."""
    from allemaal.models import Organisation

    return Organisation.objects.filter(name__icontains=term.strip()).values("pk")


def choices_filter(field: str, title, choices):
    """A list filter on a field without declared choices (such as a custody event's state),
    with fixed choices: Django would find them with a `SELECT DISTINCT` over the table."""

    class ChoicesFilter(admin.SimpleListFilter):
        parameter_name = f"{field}__exact"

        def lookups(self, request, model_admin):
            return choices

        def queryset(self, request, queryset):
            return queryset.filter(**{field: self.value()}) if self.value() else queryset

    ChoicesFilter.title = title
    return ChoicesFilter


# --- The rows of a change list ----------------------------------------------------------------


class _Column:
    """One column of a change list, worked out once per page instead of once per cell, as
    Django's `items_for_result` does (its field lookup, the empty value, the cell's classes,
    its choices' labels): the same cell, written for each row in a few microseconds."""

    def __init__(self, cl, index: int, name, *, link: bool, first: bool):
        model_admin = cl.model_admin
        self.name, self.link = name, link
        self.tag = "th" if link and first else "td"
        self.classes = [f"field-{admin_list._coerce_field_name(name, index)}"]
        self.field = self.attr = None
        self.generic = False  # a model attribute or a lookup path: Django's own lookup per cell
        try:
            self.field = admin_utils._get_non_gfk_field(cl.lookup_opts, name)
        except (FieldDoesNotExist, admin_utils.FieldIsAForeignKeyColumnName):
            if callable(name):
                self.attr = name
            elif hasattr(model_admin, name) and name != "__str__":
                self.attr = getattr(model_admin, name)
            else:
                self.generic = True
        self.empty = model_admin.get_empty_value_display()
        self.choices = None
        field = self.field
        # Plain text: what display_for_field comes to for these exact field types.
        self.plain = type(field) in {models.CharField, models.TextField, models.EmailField}
        if field is None or field.auto_created:
            if name == "action_checkbox":
                self.classes = ["action-checkbox"]
        else:
            if isinstance(field, models.DateField | models.TimeField | models.ForeignKey):
                self.classes.append("nowrap")
            if getattr(field, "flatchoices", None):
                with contextlib.suppress(TypeError):  # list-like choices: Django's own lookup
                    # Each label translated and escaped once a page, not once a row.
                    self.choices = {
                        value: conditional_escape(label)
                        for value, label in dict(field.flatchoices).items()
                    }
        self.row_class = f' class="{" ".join(self.classes)}"'

    def cell(self, cl, result) -> str:
        field, attr, empty = self.field, self.attr, self.empty
        row_class = self.row_class
        try:
            if self.generic:
                field, attr, value = admin_utils.lookup_field(self.name, result, cl.model_admin)
            elif attr is not None:
                value = attr(result)
            else:
                value = getattr(result, self.name)
        except ObjectDoesNotExist:
            text = empty
        else:
            empty = getattr(attr, "empty_value_display", empty)
            if isinstance(value, str) and value.strip() == "":
                value = ""
            if field is None or field.auto_created:
                boolean = getattr(attr, "boolean", False)
                if isinstance(attr, property) and hasattr(attr, "fget"):
                    boolean = getattr(attr.fget, "boolean", False)
                text = admin_utils.display_for_value(value, empty, boolean)
                if isinstance(value, datetime.date | datetime.time):
                    row_class = f' class="{" ".join([*self.classes, "nowrap"])}"'
            elif isinstance(field.remote_field, models.ManyToOneRel):
                related = getattr(result, field.name)
                text = empty if related is None else related
            elif self.choices is not None:
                text = self.choices.get(value, empty)
            elif self.plain:
                text = empty if value in field.empty_values else str(value)
            else:
                text = admin_utils.display_for_field(value, field, empty, avoid_link=self.link)
        if self.link:
            try:
                url = cl.url_for_result(result)
            except NoReverseMatch:
                pass
            else:
                opener = ""
                if cl.is_popup:
                    key = str(cl.to_field) if cl.to_field else cl.lookup_opts.pk.attname
                    opener = format_html(' data-popup-opener="{}"', result.serializable_value(key))
                text = f'<a href="{_escape(url)}"{opener}>{_escape(text)}</a>'
                return f"<{self.tag}{row_class}>{text}</{self.tag}>"
        return f"<{self.tag}{row_class}>{_escape(text)}</{self.tag}>"


def _escape(text) -> str:
    """`conditional_escape`, without its lazy-text check for the plain strings most cells are
    (Django's `escape` is `html.escape` of the string, behind a wrapper that checks each
    argument for a lazy translation)."""
    if type(text) is str:
        return html.escape(text)
    return conditional_escape(text)


def fast_results(cl):
    """The rows of `cl` as Django's `results` renders them (admin_list), one safe string of
    cells per row, for a list without editable fields (FastChangeList)."""
    links = cl.list_display_links
    columns, first = [], True
    for index, name in enumerate(cl.list_display):
        link = links is not None and ((first and not links) or name in links)
        columns.append(_Column(cl, index, name, link=link, first=first))
        first = first and not link
    for result in cl.result_list:
        yield admin_list.ResultList(
            None,
            [mark_safe("".join([column.cell(cl, result) for column in columns]))],  # noqa: S308 - cells escaped above
        )


# --- The admin's list of apps and models -----------------------------------------------------

APP_LIST_SECONDS = 60
_APP_LISTS_KEPT = 512


class AppList(list):
    """A remembered list of apps and models, with its side bar as written for each place in it
    (`nav_sidebar_html`): the same list, the same HTML, so written once per place."""

    def __init__(self, apps):
        super().__init__(apps)
        self.side_bars: dict[tuple, str] = {}


def nav_sidebar_html(app_list, request, render) -> str:
    """The side bar's list of apps and models (admin/app_list.html) for this page: written by
    `render()` once per remembered list and per app and model the page is in (the only thing of
    the page that list shows: Django marks the app and model whose address begins the path),
    then reused. A list that was not remembered is written each time."""
    if not isinstance(app_list, AppList):
        return render()
    path = quote(request.path)
    place = tuple(
        url
        for app in app_list
        for url in (app["app_url"], *(model.get("admin_url") for model in app["models"]))
        if url and url in path
    )
    written = app_list.side_bars.get(place)
    if written is None:
        written = app_list.side_bars[place] = render()
    return written


def remember_app_lists(site: admin.AdminSite, seconds: int = APP_LIST_SECONDS) -> None:
    """Build each staff member's list of apps and models (the side bar of every admin page, and
    the start page's list) once per `seconds`, not on every page.

    Django builds it anew for every admin page, twice on the start page: a permission check and
    a `reverse()` per model, 5% of the CPU of bench_load's page mix. The list depends on the
    user, their permissions and the language, which make its key (the permissions are loaded
    for the page's own checks anyway), so a permission granted or taken away shows at once. A
    rule of a ModelAdmin that reads something else about the user shows within `seconds`; the
    list only shows links, and every page checks its permission itself. Kept per process, with
    the side bar written from it (`nav_sidebar_html`, templates/admin/nav_sidebar.html)."""
    build = site.get_app_list
    kept: dict[tuple, tuple[float, list]] = {}

    def get_app_list(request, app_label=None):
        user = request.user
        if app_label is not None or not (user.is_active and user.is_staff):
            return build(request, app_label)
        key = (
            user.pk,
            user.is_superuser,
            translation.get_language(),
            frozenset(user.get_all_permissions()),
        )
        now = monotonic()
        found = kept.get(key)
        if found is not None and now - found[0] < seconds:
            return found[1]
        if len(kept) >= _APP_LISTS_KEPT:
            kept.clear()
        app_list = AppList(build(request, app_label))
        kept[key] = (now, app_list)
        return app_list

    site.get_app_list = get_app_list
    site.forget_app_lists = kept.clear
