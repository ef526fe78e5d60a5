"""Property tests over every form of the apps (issue #17): random values in every field, files
of random bytes. Whatever comes in: validation never raises (a 500), a valid form's cleaned
text never holds a NUL byte (PostgreSQL refuses it), and a valid model form's instance passes
full_clean().
"""

import importlib
import inspect

import pytest
from django import forms
from django.core.files.uploadedfile import SimpleUploadedFile
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from helprequests.tests.factories import HelpRequestFactory

pytestmark = pytest.mark.django_db

APPS = ["allemaal", "donations", "helprequests", "refurbish", "distribution"]
PROPERTY = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def all_forms() -> list[type[forms.BaseForm]]:
    found = []
    for app in APPS:
        module = importlib.import_module(f"{app}.forms")
        for value in vars(module).values():
            if (
                inspect.isclass(value)
                and issubclass(value, forms.BaseForm)
                and value.__module__ == module.__name__
            ):
                found.append(value)
    return found


FORMS = all_forms()

text = st.text(
    alphabet=st.one_of(
        st.sampled_from("=+-@\t\r\n\x00\x07 ;,'ß€0123456789-:/."),
        st.characters(codec="utf-8", exclude_categories=["Cs"]),
    ),
    max_size=30,
)
values = st.one_of(
    text,
    st.integers(-(10**12), 10**12).map(str),
    st.dates().map(lambda d: d.isoformat()),
    st.sampled_from(["", "on", "1", "0", "2026-02-30", "1234 AB", "0612345678", "a@b.nl"]),
)


def constructor_kwargs(form_class, request) -> dict:
    """The extra arguments some forms need, from the personas."""
    params = inspect.signature(form_class.__init__).parameters
    kwargs = {}
    if "minimum" in params:
        kwargs["minimum"] = 10
    if "organisation" in params:
        kwargs["organisation"] = request.getfixturevalue("school_board_org")
    if "help_request" in params:
        kwargs["help_request"] = HelpRequestFactory(
            organisation=request.getfixturevalue("school_board_org"), submitted=True
        )
    if "open_households" in params:
        kwargs["open_households"] = 5
    if "policy" in params:
        kwargs["policy"] = None
    if "items" in params:
        kwargs["items"] = []
    if "plan" in params:
        from donations.manifest import plan_header

        kwargs["plan"] = plan_header(["Serial number", "Category", "Primary user UPN", "Model"])
    return kwargs


def field_value(field, draw):
    if isinstance(field, forms.FileField):
        content = draw(st.binary(max_size=200))
        name = draw(st.sampled_from(["a.csv", "b.xlsx", "c.log", "d.zip", "e.pdf"]))
        return None, SimpleUploadedFile(name, content)
    choices = [str(value) for value, _label in getattr(field, "choices", [])][:50]
    if isinstance(field, forms.MultipleChoiceField | forms.ModelMultipleChoiceField):
        return draw(st.lists(st.one_of(st.sampled_from(choices or [""]), values), max_size=3)), None
    if choices:
        return draw(st.one_of(st.sampled_from(choices), values)), None
    return draw(values), None


def check_form(form_class, kwargs, data):
    fields = form_class(**kwargs).fields
    post, files = {}, {}
    for name, field in fields.items():
        if data.draw(st.booleans()):
            continue  # a field left out of the request
        value, upload = field_value(field, data.draw)
        if upload is not None:
            files[name] = upload
        else:
            post[name] = value
    form = form_class(post, files, **kwargs)
    if not form.is_valid():
        return
    for value in form.cleaned_data.values():
        assert not (isinstance(value, str) and "\x00" in value)
    if isinstance(form, forms.ModelForm):
        excluded = [f.name for f in form.instance._meta.fields if f.name not in form.fields]
        form.instance.full_clean(exclude=excluded, validate_unique=False)


@pytest.mark.parametrize("form_class", FORMS, ids=lambda c: f"{c.__module__}.{c.__name__}")
def test_no_input_makes_a_form_fail(form_class, request, school_board_org):
    kwargs = constructor_kwargs(form_class, request)

    @PROPERTY
    @given(data=st.data())
    def run(data):
        check_form(form_class, kwargs, data)

    run()
