"""Django's `i18n` template library, with `{% translate "literal" %}` looked up once per language.

Django's TranslateNode makes a lazy string at every render and translates it when the page is
written: gettext through the thread's active catalogue, localize, escape, ~15 us a tag. A page
has 30 to 100 of them (the navigation, the forms' labels, the table headings), 4% of the CPU of
bench_load's page mix. A literal without filters or `context` gives the same text every time in
the same language: this node keeps that text per (language, literal) and hands it out again.
Anything else (a variable, a filter, `context`) is Django's node unchanged.

It is registered as the library `i18n` (TEMPLATES' `libraries` in config/settings.py), so every
`{% load i18n %}`, the admin's too, loads this library: Django's tags and filters, this
`translate`/`trans` among them. What was kept is forgotten when a setting that changes the
catalogues changes (a test's override), as Django forgets its own translations then.
"""

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Library, Variable
from django.templatetags import i18n as django_i18n
from django.utils.safestring import SafeData
from django.utils.translation import get_language

register = Library()
register.tags.update(django_i18n.register.tags)
register.filters.update(django_i18n.register.filters)

_translated: dict[tuple, SafeData] = {}
# Each literal of every template in each language: a few thousand; more means something unusual
# (templates made at run time), and then the dict starts again rather than grow.
_KEPT = 20_000


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting in {"LANGUAGES", "LANGUAGE_CODE", "LOCALE_PATHS", "INSTALLED_APPS"}:
        _translated.clear()


class FastTranslateNode(django_i18n.TranslateNode):
    """`{% translate %}`, a literal's translation kept per language."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        expression = self.filter_expression
        literal = getattr(expression.var, "literal", None)
        constant = (
            isinstance(expression.var, Variable)
            and isinstance(literal, str)
            and not expression.filters
            and self.message_context is None
        )
        self._literal = (literal, self.noop) if constant else None

    def render(self, context):
        if self._literal is None:
            return super().render(context)
        key = (get_language(), *self._literal)
        value = _translated.get(key)
        if value is None:
            value = self._translate(context)
            if not isinstance(value, SafeData):  # never for a literal; escaping would then vary
                return self._give(context, value)
            if len(_translated) >= _KEPT:
                _translated.clear()
            _translated[key] = value
        return self._give(context, value)

    def _translate(self, context):
        text = super().render(context)  # with `as`, Django's render stores the text instead
        return context[self.asvar] if self.asvar else text

    def _give(self, context, value):
        if self.asvar:
            context[self.asvar] = value
            return ""
        return value


@register.tag("translate")
@register.tag("trans")
def do_translate(parser, token):
    node = django_i18n.do_translate(parser, token)
    return FastTranslateNode(node.filter_expression, node.noop, node.asvar, node.message_context)
