"""`{% fast_result_list cl %}`: Django's `{% result_list cl %}`, with the rows of a
FastChangeList written by `allemaal.admin_speed.fast_results` (templates/admin/change_list.html)."""

from django.contrib.admin.templatetags import admin_list
from django.contrib.admin.templatetags.base import InclusionAdminNode
from django.template import Library

from allemaal.admin_speed import FastChangeList, fast_results

register = Library()


def fast_result_list(cl):
    if not isinstance(cl, FastChangeList) or cl.formset:  # editable rows: Django's own
        return admin_list.result_list(cl)
    headers = list(admin_list.result_headers(cl))
    return {
        "cl": cl,
        "result_hidden_fields": [],
        "result_headers": headers,
        "num_sorted_fields": sum(1 for h in headers if h["sortable"] and h["sorted"]),
        "results": list(fast_results(cl)),
    }


@register.tag(name="fast_result_list")
def fast_result_list_tag(parser, token):
    return InclusionAdminNode(
        parser,
        token,
        func=fast_result_list,
        template_name="change_list_results.html",
        takes_context=False,
    )
