"""`{% load i18n %}` is allemaal.templatetags.fast_i18n: the same text as Django's library, with a
literal's translation kept per language."""

import pytest
from django.template import Context, Engine, engines
from django.test import override_settings
from django.utils import translation

from allemaal.templatetags import fast_i18n

TEMPLATES = [
    '{% translate "Inloggen" %}',
    "{% translate 'Inloggen' %}",
    '{% translate "Inloggen" as button %}[{{ button }}]',
    '{% translate "Inloggen" noop %}',
    '{% translate "Inloggen"|upper %}',
    '{% translate "Inloggen" context "knop" %}',
    '{% translate "100%% gewist <b>" %}',
    "{% translate label %}",
    "{% translate markup %}",
    "{% blocktranslate with n=count %}{{ n }} apparaten{% endblocktranslate %}",
    '{% translate "Inloggen" as button %}{% translate "Uitloggen" as button %}{{ button }}',
]


def _render(engine: Engine, source: str, *, autoescape: bool = True) -> str:
    template = engine.from_string("{% load i18n %}" + source)
    context = {"label": "Uitloggen", "markup": "<i>Uitloggen</i>", "count": 3}
    return template.render(Context(context, autoescape=autoescape))


@pytest.mark.parametrize("source", TEMPLATES)
@pytest.mark.parametrize("language", ["nl", "en", None])
@pytest.mark.parametrize("autoescape", [True, False])
def test_the_same_text_as_djangos_own_library(source, language, autoescape):
    ours = engines["django"].engine
    djangos = Engine(libraries={"i18n": "django.templatetags.i18n"})
    with translation.override(language):
        expected = _render(djangos, source, autoescape=autoescape)
        assert _render(ours, source, autoescape=autoescape) == expected
        assert _render(ours, source, autoescape=autoescape) == expected  # kept, same text


def test_every_load_of_i18n_is_ours():
    template = engines["django"].engine.from_string('{% load i18n %}{% translate "Inloggen" %}')
    assert isinstance(template.nodelist[-1], fast_i18n.FastTranslateNode)


def test_a_literal_is_translated_once_per_language(monkeypatch):
    fast_i18n._translated.clear()
    template = engines["django"].engine.from_string('{% load i18n %}{% translate "Inloggen" %}')
    calls = []
    real = fast_i18n.django_i18n.TranslateNode.render

    def counted(node, context):
        calls.append(translation.get_language())
        return real(node, context)

    monkeypatch.setattr(fast_i18n.django_i18n.TranslateNode, "render", counted)
    with translation.override("en"):
        english = {template.render(Context()) for _ in range(3)}
    with translation.override("nl"):
        dutch = {template.render(Context()) for _ in range(3)}
    with translation.override("en"):
        assert english == {translation.gettext("Inloggen")} != {"Inloggen"}
    assert dutch == {"Inloggen"}
    assert calls == ["en", "nl"]


def test_a_variable_is_translated_at_every_render():
    template = engines["django"].engine.from_string("{% load i18n %}{% translate label %}")
    with translation.override("nl"):
        assert template.render(Context({"label": "Uitloggen"})) == "Uitloggen"
        assert template.render(Context({"label": "Inloggen"})) == "Inloggen"


def test_what_was_kept_is_forgotten_when_the_catalogues_change(tmp_path):
    template = engines["django"].engine.from_string('{% load i18n %}{% translate "Inloggen" %}')
    with translation.override("nl"):
        template.render(Context())
    assert fast_i18n._translated
    with override_settings(LOCALE_PATHS=[tmp_path]):
        assert not fast_i18n._translated


def test_the_system_check_accepts_this_replacement_and_no_other():
    from django.core import checks

    from allemaal.template_backend import DjangoTemplates

    found = checks.run_checks(tags=[checks.Tags.templates])
    assert not [m for m in found if m.id == "templates.W003"]
    backend = DjangoTemplates(
        {
            "NAME": "clash",
            "DIRS": [],
            "APP_DIRS": True,
            "OPTIONS": {
                "libraries": {
                    "i18n": "allemaal.templatetags.fast_i18n",
                    "static": "allemaal.templatetags.fast_url",
                }
            },
        }
    )
    clashes = [m.msg for m in backend.check() if m.id == "templates.W003"]
    assert len(clashes) == 1 and clashes[0].startswith("'static' is used")
