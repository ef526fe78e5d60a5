"""`fast_reverse` and `{% url %}` give exactly the URL Django's `reverse()` gives, for every
named URL of the project, and reverse each pattern once instead of once per link."""

from unittest import mock

import pytest
from django.template import Context, Template
from django.test import override_settings
from django.urls import (
    NoReverseMatch,
    URLPattern,
    URLResolver,
    get_resolver,
    path,
    register_converter,
    reverse,
)

from allemaal import fast_urls
from allemaal.fast_urls import fast_reverse


def _named_patterns(resolver=None, namespace=""):
    """(qualified name, positional group count, keyword names) of every named URL."""
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
            yield from _named_patterns(entry, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            names = tuple(entry.pattern.regex.groupindex)
            positional = entry.pattern.regex.groups - len(names)
            yield f"{namespace}{entry.name}", positional, names


def _same(name, args=(), kwargs=None):
    try:
        expected = reverse(name, args=args, kwargs=kwargs)
    except NoReverseMatch:
        with pytest.raises(NoReverseMatch):
            fast_reverse(name, args=args, kwargs=kwargs)
        return None
    assert fast_reverse(name, args=args, kwargs=kwargs) == expected, (name, args, kwargs)
    return expected


def test_every_named_url_of_the_project_is_the_url_django_writes():
    fast_urls._learned.clear()
    patterns = list(_named_patterns())
    assert len(patterns) > 100
    written = 0
    for name, positional, names in patterns:
        for value in (0, 1, 7, 42, 2026, 918_273, 10**15):
            if names:
                written += _same(name, kwargs=dict.fromkeys(names, value)) is not None
            else:
                written += _same(name, args=(value,) * positional) is not None
        # Not an id: a string, a negative number, a bool go to Django as they are.
        if names:
            _same(name, kwargs=dict.fromkeys(names, "12"))
            _same(name, kwargs=dict.fromkeys(names, -1))
            _same(name, kwargs=dict.fromkeys(names, True))
    assert written > 500


def test_each_pattern_is_reversed_once_not_once_per_link():
    fast_urls._learned.clear()
    with mock.patch.object(fast_urls, "reverse", wraps=reverse) as django_reverse:
        links = [fast_reverse("admin:donations_device_change", args=[pk]) for pk in range(1, 51)]
    assert links == [reverse("admin:donations_device_change", args=[pk]) for pk in range(1, 51)]
    # Once with stand-in ids, once with small ones to check what was learned; not 50 times.
    assert django_reverse.call_count == 2


class PaddedYear:
    regex = "[0-9]+"  # any id: only writing it differs, which the check with small ids finds

    def to_python(self, value):
        return int(value)

    def to_url(self, value):
        return f"{value:04d}"


register_converter(PaddedYear, "padded_year")

urlpatterns = [
    path("jaar/<padded_year:year>/", lambda request: None, name="padded"),
    path("maand/<int:year>/<int:month>/", lambda request: None, name="month"),
]


@override_settings(ROOT_URLCONF=__name__)
def test_a_converter_that_writes_ids_its_own_way_is_left_to_django():
    assert fast_reverse("padded", kwargs={"year": 7}) == "/jaar/0007/"
    assert fast_reverse("padded", args=[2026]) == "/jaar/2026/"
    assert fast_reverse("month", args=[2026, 3]) == "/maand/2026/3/"
    assert fast_reverse("month", kwargs={"month": 3, "year": 2026}) == "/maand/2026/3/"
    with pytest.raises(NoReverseMatch):
        fast_reverse("month", args=[2026])


def test_the_url_tag_of_every_template_is_the_fast_one_and_writes_the_same():
    template = Template(
        "{% url 'admin:donations_device_change' pk %}|"
        "{% url 'admin:donations_device_change' object_id=pk %}|"
        "{% url 'no-such-page' as missing %}[{{ missing }}]|"
        "{% url 'admin:index' as home %}{{ home }}"
    )
    assert any(isinstance(node, fast_urls.FastURLNode) for node in template.nodelist)
    written = template.render(Context({"pk": 12}))
    device = reverse("admin:donations_device_change", args=[12])
    assert written == f"{device}|{device}|[]|{reverse('admin:index')}"
    with pytest.raises(NoReverseMatch):
        Template("{% url 'no-such-page' %}").render(Context())
