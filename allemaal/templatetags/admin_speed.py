"""`{% fast_result_list cl %}`: Django's `{% result_list cl %}`, with the rows of a
FastChangeList written by `allemaal.admin_speed.fast_results` (templates/admin/change_list.html)
into templates/admin/speed/change_list_results.html."""

from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template import Library
from django.utils.safestring import mark_safe

from allemaal.admin_speed import FastChangeList, fast_results, nav_sidebar_html

register = Library()


def fast_result_list(cl):
    if not isinstance(cl, FastChangeList) or cl.formset:  # editable rows: Django's own
        return {**admin_list.result_list(cl), "rows": None}
    headers = list(admin_list.result_headers(cl))
    results = list(fast_results(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": results,
        # The rows as one string: a template loop over a hundred rows cost more than the rows.
        "rows": mark_safe("\n".join(f"<tr>{row[0]}</tr>" for row in results)),  # noqa: S308 - cells escaped
    }


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=fast_result_list,
        template_name="speed/change_list_results.html",
        takes_context=False,
    )


@register.simple_tag(takes_context=True)
def side_bar_apps(context):
    """admin/app_list.html for the side bar (show_changelinks off), as Django's
    admin/nav_sidebar.html includes it, written once per remembered list and place in it."""
    apps = context.get("available_apps")

    def render() -> str:
        with context.push(app_list=apps, show_changelinks=False):
            return context.template.engine.get_template("admin/app_list.html").render(context)

    return mark_safe(nav_sidebar_html(apps, context["request"], render))  # noqa: S308 - a template's output
