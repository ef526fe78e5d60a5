"""The register of personal data (issue 18) covers every model field that looks personal, and
no model has a field that would identify a person helped."""

from django.apps import apps

from allemaal import privacy


def concrete_fields():
    for model in apps.get_models():
        if model._meta.proxy:
            continue
        for field in model._meta.concrete_fields:
            yield f"{model._meta.label}.{field.name}", field


def test_every_field_that_looks_personal_is_in_the_register():
    registered = privacy.registered_fields()
    missing = [
        label
        for label, field in concrete_fields()
        if privacy.looks_personal(field)
        and label not in registered
        and label not in privacy.NOT_PERSONAL
    ]
    assert not missing, (
        "Personal-looking fields missing from allemaal/privacy.py (add them to REGISTER with "
        f"purpose, basis and retention, or to NOT_PERSONAL with why): {missing}"
    )


def test_every_field_the_register_names_exists():
    existing = {label for label, _field in concrete_fields()}
    unknown = [
        label
        for label in list(privacy.registered_fields()) + list(privacy.NOT_PERSONAL)
        if label not in existing
    ]
    assert not unknown


def test_no_field_would_identify_a_person_helped():
    found = [label for label, _f in concrete_fields() if privacy.BENEFICIARY_FIELD.search(_f.name)]
    assert not found


def test_each_entry_has_a_known_retention_and_a_period_where_a_job_enforces_it(settings):
    for entry in privacy.REGISTER:
        retention = privacy.RETENTION[entry.retention]
        if retention.setting:
            assert retention.days and retention.days > 0


def test_the_detector_would_catch_a_new_personal_field():
    from django.db import models

    assert privacy.looks_personal(models.CharField(name="guardian_name"))
    assert privacy.looks_personal(models.TextField(name="anything"))
    assert privacy.looks_personal(models.GenericIPAddressField(name="seen_from"))
    assert not privacy.looks_personal(models.CharField(name="serial_number"))
    assert privacy.BENEFICIARY_FIELD.search("pupil_birth_date")
