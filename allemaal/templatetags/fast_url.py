"""`{% url %}` as Django writes it, each URL pattern reversed once (allemaal.fast_urls): a
template builtin (config/settings.py), so every template's `{% url %}` is this one."""

from django.template import Library, defaulttags

from allemaal.fast_urls import FastURLNode

register = Library()


@register.tag
def url(parser, token):
    node = defaulttags.url(parser, token)
    return FastURLNode(node.view_name, node.args, node.kwargs, node.asvar)
