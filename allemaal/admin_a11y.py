"""Accessibility additions to Django's admin.

In a tabular inline and in a change list's editable columns, a field's name stands in the
column header, not in a <label>: screen readers announce the bare input (axe: `label`,
`select-name`). `LabelledFieldsMixin` gives each such input its field name as aria-label.
"""

from django.utils.text import capfirst


def labelled(field):
    """Set the form field's name as its widget's aria-label (kept if one is there)."""
    if field is not None:
        field.widget.attrs.setdefault("aria-label", capfirst(str(field.label)))
    return field


class LabelledFieldsMixin:
    """For inlines: every field of every row is labelled."""

    def formfield_for_dbfield(self, db_field, request, **kwargs):
        return labelled(super().formfield_for_dbfield(db_field, request, **kwargs))


class LabelledListEditableMixin:
    """For model admins with list_editable: the change list's inputs are labelled."""

    def get_changelist_formset(self, request, **kwargs):
        formset = super().get_changelist_formset(request, **kwargs)
        for field in formset.form.base_fields.values():
            labelled(field)
        return formset
