"""Django's template backend, whose check knows the one tag library we replace on purpose.

`{% load i18n %}` loads `allemaal.templatetags.fast_i18n` (TEMPLATES' `libraries` in
config/settings.py), which Django's check reports as two modules under one name (templates.W003,
a warning that fails the deploy check). That pair, and only that pair, is left out of the report;
any other clash of names is still a warning.
"""

from django.template.backends.django import DjangoTemplates as DjangoBackend

REPLACED = {"i18n": ("allemaal.templatetags.fast_i18n", "django.templatetags.i18n")}


def _is_replaced_on_purpose(warning) -> bool:
    return warning.id == "templates.W003" and any(
        warning.msg
        == f"{name!r} is used for multiple template tag modules: "
        + ", ".join(repr(module) for module in sorted(modules))
        for name, modules in REPLACED.items()
    )


class DjangoTemplates(DjangoBackend):
    def _check_for_template_tags_with_the_same_name(self):
        return [
            warning
            for warning in super()._check_for_template_tags_with_the_same_name()
            if not _is_replaced_on_purpose(warning)
        ]
