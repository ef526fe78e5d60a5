"""A person's rights over their data (AVG art. 15 and 17), driven by the register in
`allemaal/privacy.py`: everything the platform holds about one person as one JSON document,
and erasure that keeps what accountability needs (that something happened, by which
organisation) without the person.

Which rows are about a person: rows whose user fields of the register point at them, rows
sent to their e-mail address, and rows that name them as contact person (their full name, or
their e-mail address). The models are found through Django's app registry from the register's
`app_label.Model.field` names, so a field added to the register is exported and erased without
code here.
"""

import uuid
from collections.abc import Iterator
from dataclasses import dataclass

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from . import privacy
from .sessions import sessions_end

ERASED_DOMAIN = "verwijderd.invalid"
# The chain of custody is append-only (a PostgreSQL trigger refuses UPDATE): its events keep
# pointing at the account, which erasure turns into "een oud-medewerker van <organisatie>".
APPEND_ONLY = {"donations.DeviceEvent"}


@dataclass(frozen=True)
class RegisteredModel:
    model: type[models.Model]
    fields: list[models.Field]  # the model's fields in the register

    @property
    def label(self) -> str:
        return self.model._meta.label

    def user_fields(self) -> list[models.Field]:
        return [f for f in self.fields if f.is_relation and _is_user_model(f.related_model)]

    def email_fields(self) -> list[models.Field]:
        return [f for f in self.fields if isinstance(f, models.EmailField)]

    def contact_name_fields(self) -> list[models.Field]:
        return [f for f in self.fields if f.name == "contact_name"]

    def free_text_fields(self) -> list[models.Field]:
        return [
            f
            for f in self.fields
            if isinstance(f, models.TextField | models.CharField)
            and not isinstance(f, models.EmailField)
            and f.name not in ("contact_name", "password", "first_name", "last_name")
        ]


def _is_user_model(model) -> bool:
    return model is not None and model._meta.label == settings.AUTH_USER_MODEL


def _has_user_field(model) -> bool:
    return any(f.name == "user" for f in model._meta.concrete_fields)


def registered_models() -> Iterator[RegisteredModel]:
    by_model: dict[str, list[str]] = {}
    for label in privacy.registered_fields():
        model_label, field = label.rsplit(".", 1)
        by_model.setdefault(model_label, []).append(field)
    for model_label, names in sorted(by_model.items()):
        model = apps.get_model(model_label)
        yield RegisteredModel(model, [model._meta.get_field(name) for name in names])


def _full_name(user) -> str:
    return " ".join(part for part in (user.first_name, user.last_name) if part).strip()


def _about(registered: RegisteredModel, user) -> Q | None:
    """The rows of this model that are about `user`, or None when none can be."""
    if _is_user_model(registered.model):
        return Q(pk=user.pk)
    condition = Q()
    for field in registered.user_fields():
        condition |= Q(**{field.attname: user.pk})
    for field in registered.email_fields():
        condition |= Q(**{f"{field.name}__iexact": user.email})
    for field in registered.fields:  # a row of the person's, e.g. the confirmation of an address
        related = field.related_model if field.is_relation else None
        if related and not _is_user_model(related) and _has_user_field(related):
            condition |= Q(**{f"{field.name}__user": user.pk})
    name = _full_name(user)
    for field in registered.contact_name_fields():
        if name:
            condition |= Q(**{f"{field.name}__iexact": name})
        condition |= Q(**{f"{field.name}__iexact": user.email})
    for field in registered.free_text_fields():  # a note that names them (rare; scans)
        condition |= Q(**{f"{field.name}__icontains": user.email})
        if len(name) >= 5:
            condition |= Q(**{f"{field.name}__icontains": name})
    return condition or None


def _value(row, field: models.Field):
    if field.name == "password":
        return "(versleuteld; niet te lezen / hashed, cannot be read)"
    if field.name == "data" and row._meta.label == "mfa.Authenticator":
        return {"type": row.type}  # never the secret itself
    if field.name == "session_data":
        return "(sessie / session)"
    value = getattr(row, field.attname)
    return str(value) if value is not None and not isinstance(value, int | float | str) else value


def personal_data_export(user) -> dict:
    """Everything the platform holds about `user`, one record per row, each with every field
    of the register in that row. JSON-ready (dates as ISO strings)."""
    records = []
    for registered in registered_models():
        if registered.label == "sessions.Session":
            continue  # sessions are not linked to a user in the database; listed on Account
        condition = _about(registered, user)
        if condition is None:
            continue
        for row in registered.model._default_manager.filter(condition).order_by("pk"):
            records.append(
                {
                    "model": registered.label,
                    "id": row.pk,
                    "fields": {f.name: _value(row, f) for f in registered.fields},
                }
            )
    return {
        "person": user.email,
        "generated_at": timezone.now().isoformat(),
        "register": "allemaal/privacy.py",
        "records": records,
    }


def export_json(user) -> str:
    import json

    return json.dumps(
        personal_data_export(user), cls=DjangoJSONEncoder, indent=2, ensure_ascii=False
    )


def export_pdf(user) -> bytes:
    """A readable summary of the export: per kind of record how many, and each record's
    fields (Dutch and English headings; the JSON file is the complete export)."""
    import io
    from xml.sax.saxutils import escape

    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer

    data = personal_data_export(user)
    styles = getSampleStyleSheet()
    story = [
        Paragraph("Uw gegevens bij #allemaaldigitaal / Your data", styles["Title"]),
        Paragraph(escape(f"{data['person']} · {data['generated_at'][:16]}"), styles["Normal"]),
        Spacer(1, 8),
    ]
    current = None
    for record in data["records"]:
        if record["model"] != current:
            current = record["model"]
            count = sum(1 for r in data["records"] if r["model"] == current)
            story.append(Paragraph(escape(f"{current} ({count})"), styles["Heading3"]))
        text = "; ".join(
            f"{name}: {value}"
            for name, value in record["fields"].items()
            if value not in ("", None)
        )
        story.append(Paragraph(escape(f"#{record['id']} {text}")[:4000], styles["Normal"]))
    buffer = io.BytesIO()
    SimpleDocTemplate(buffer, pagesize=A4, title="Uw gegevens / Your data").build(story)
    return buffer.getvalue()


def _former_name(user) -> str:
    membership = getattr(user, "membership", None)
    if membership is not None:
        return f"een oud-medewerker van {membership.organisation.name}"
    return "een oud-medewerker"


def personal_data_erase(user, *, by=None) -> None:
    """Erase `user`'s personal data everywhere the register says; histories and the custody
    trail keep the event, naming 'a former employee of <organisation>'. The account row stays
    (the histories point at it) without name, address or the means to log in. Rare and
    deliberate: it reads the register's tables whole, once."""
    User = get_user_model()
    former = _former_name(user)
    with transaction.atomic():
        locked = User.objects.select_for_update().get(pk=user.pk)
        # Their sessions end first, by the keys tracked per user (never a scan of every
        # session in the country); the erasure below deletes those records.
        sessions_end(locked)
        traces = {locked.email, _full_name(locked)} - {""}
        others = [
            r
            for r in registered_models()
            if not _is_user_model(r.model)
            and r.label != "sessions.Session"
            and r.label not in APPEND_ONLY
        ]
        for registered in others:
            traces |= _erase_rows(registered, locked, former=former)
        # Whatever still names them (a note that quotes their address, an admin log line about
        # their account) has it replaced.
        for registered in others:
            _scrub(registered, traces, former)
        locked.first_name = ""
        locked.last_name = former[:150]
        locked.email = f"oud-medewerker-{uuid.uuid4().hex[:12]}@{ERASED_DOMAIN}"
        locked.is_active = False
        locked.set_unusable_password()
        locked.save()


def _erase_rows(registered: RegisteredModel, user, *, former: str) -> set[str]:
    """Erase the rows about `user` of one model; returns the phone numbers found on them (as
    text), so that the scrub finds them elsewhere too."""
    manager = registered.model._default_manager
    condition = _about(registered, user)
    if condition is None:
        return set()
    rows = manager.filter(condition)
    if registered.label in (
        "account.EmailAddress",
        "account.EmailConfirmation",
        "mfa.Authenticator",
        "allemaal.Invitation",
        "usersessions.UserSession",
    ):
        rows.delete()
        return set()
    phones = set()
    contact = Q()
    name = _full_name(user)
    for field in registered.contact_name_fields():
        contact |= Q(**{f"{field.name}__iexact": user.email})
        if name:
            contact |= Q(**{f"{field.name}__iexact": name})
    if contact:
        names = [f.name for f in registered.fields]
        if "contact_phone" in names:
            phones = {
                str(p) for p in manager.filter(contact).values_list("contact_phone", flat=True) if p
            }
        max_length = registered.model._meta.get_field("contact_name").max_length
        updates = {"contact_name": former[:max_length]}
        if "contact_phone" in names:
            updates["contact_phone"] = ""
        manager.filter(contact).update(**updates)
    if registered.label == "allemaal.Notification":
        rows.update(body_text="", body_html="", to_email=f"verwijderd@{ERASED_DOMAIN}")
    if any(f.name == "operator_name" for f in registered.fields):
        max_length = registered.model._meta.get_field("operator_name").max_length
        manager.filter(operator=user).update(operator_name=former[:max_length])
    return phones


def _scrub(registered: RegisteredModel, traces: set[str], former: str) -> None:
    from django.db.models import F, Value
    from django.db.models.functions import Left, Replace

    manager = registered.model._default_manager
    for field in registered.fields:
        if field.is_relation or not isinstance(field, models.CharField | models.TextField):
            if "PhoneNumber" in type(field).__name__:
                manager.filter(**{f"{field.name}__in": list(traces)}).update(**{field.name: ""})
            continue
        for trace in traces:
            if len(trace) < 5:
                continue  # too short to be sure it names them
            replaced = Replace(F(field.name), Value(trace), Value(former))
            if field.max_length:
                replaced = Left(replaced, field.max_length)
            manager.filter(**{f"{field.name}__icontains": trace}).update(**{field.name: replaced})
            # Replace() is case-sensitive; a different case is cleared to the former name.
            manager.filter(**{f"{field.name}__icontains": trace}).update(
                **{field.name: former[: field.max_length] if field.max_length else former}
            )
