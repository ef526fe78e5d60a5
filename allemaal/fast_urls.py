"""`reverse()` once per URL pattern and language, not once per link.

Django's `reverse()` (and so `{% url %}`) walks the resolver's candidates for the name, checks
each argument against its converter and quotes the result: ~50 us a link, 4% of the CPU of
bench_load's page mix, where a list page writes the same link around a different id on every
row. `fast_reverse` reverses each name once with stand-in ids, learns where the ids go, and
writes the next link by putting the ids in. It does so only where that gives exactly what
`reverse()` gives:

- every argument is a non-negative int (not a bool, not a string): anything else is Django's;
- the stand-in ids each appear once in the URL, and a second reverse with small ids (which a
  padding or range-limited converter would write differently or refuse) gives the same URL
  as the learned one; otherwise that name is always reversed by Django;
- what reverse reads besides its arguments is the key: the name, the number of positional
  arguments, the keyword names, the current app, the thread's URLconf, the script prefix and
  the language (for `i18n_patterns`).

`{% url %}` in every template is this (allemaal.templatetags.fast_url, a template builtin:
config/settings.py). The URL patterns do not change while a process runs; a test that swaps
ROOT_URLCONF empties what was learned, as Django empties its own URL caches.
"""

from __future__ import annotations

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import defaulttags
from django.urls import NoReverseMatch, get_script_prefix, get_urlconf, reverse
from django.utils.html import conditional_escape
from django.utils.translation import get_language

# Ids no row has: each written once into a URL, then found again in it.
_STAND_INS = (7_391_046_283, 7_391_046_284, 7_391_046_285, 7_391_046_286, 7_391_046_287)
_SMALL = (3, 5, 7, 9, 11)
_MISSING = object()
_learned: dict[tuple, list | None] = {}
_KEPT = 4096


@receiver(setting_changed)
def _forget(*, setting, **kwargs):
    if setting == "ROOT_URLCONF":
        _learned.clear()


def _learn(viewname, n_args: int, names: tuple, current_app) -> list | None:
    """The URL of `viewname` as literal parts and argument places, or None when only Django's
    own reverse gives it right."""
    if n_args + len(names) > len(_STAND_INS):
        return None
    stand_ins = _STAND_INS[: n_args + len(names)]
    small = _SMALL[: len(stand_ins)]

    def reversed_with(values) -> str:
        kwargs = dict(zip(names, values[n_args:], strict=True))
        return reverse(viewname, args=values[:n_args], kwargs=kwargs, current_app=current_app)

    try:
        url, check = reversed_with(stand_ins), reversed_with(small)
    except NoReverseMatch:
        return None
    if any(url.count(str(value)) != 1 for value in stand_ins):
        return None
    parts: list = []
    rest = url
    for _position, index in sorted((url.find(str(v)), i) for i, v in enumerate(stand_ins)):
        literal, _sep, rest = rest.partition(str(stand_ins[index]))
        parts += [literal, index]
    parts.append(rest)
    return parts if _write(parts, small) == check else None


def _write(parts: list, values) -> str:
    return "".join(part if type(part) is str else str(values[part]) for part in parts)


def _plain_id(value) -> bool:
    return type(value) is int and value >= 0


def fast_reverse(viewname, args=(), kwargs=None, current_app=None) -> str:
    """`reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)`, the same URL."""
    kwargs = kwargs or {}
    if not (
        isinstance(viewname, str)
        and all(_plain_id(arg) for arg in args)
        and all(_plain_id(value) for value in kwargs.values())
    ):
        return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
    names = tuple(sorted(kwargs))
    key = (
        viewname,
        len(args),
        names,
        current_app,
        get_urlconf(),
        get_script_prefix(),
        get_language(),
    )
    parts = _learned.get(key, _MISSING)
    if parts is _MISSING:
        if len(_learned) >= _KEPT:
            _learned.clear()
        parts = _learned[key] = _learn(viewname, len(args), names, current_app)
    if parts is None:
        return reverse(viewname, args=args, kwargs=kwargs, current_app=current_app)
    return _write(parts, (*args, *(kwargs[name] for name in names)))


class FastURLNode(defaulttags.URLNode):
    """Django's `{% url %}` node, reversing with `fast_reverse`."""

    def render(self, context):
        args = [arg.resolve(context) for arg in self.args]
        kwargs = {k: v.resolve(context) for k, v in self.kwargs.items()}
        view_name = self.view_name.resolve(context)
        try:
            current_app = context.request.current_app
        except AttributeError:
            try:
                current_app = context.request.resolver_match.namespace
            except AttributeError:
                current_app = None
        url = ""
        try:
            url = fast_reverse(view_name, args=args, kwargs=kwargs, current_app=current_app)
        except NoReverseMatch:
            if self.asvar is None:
                raise
        if self.asvar:
            context[self.asvar] = url
            return ""
        return conditional_escape(url) if context.autoescape else url
