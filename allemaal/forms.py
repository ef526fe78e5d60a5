from allauth.account.forms import SignupForm as AllauthSignupForm
from allauth.account.models import EmailAddress
from django import forms
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from .models import Membership, Organisation, User
from .postcodes import normalise_postcode


class SignupForm(AllauthSignupForm):
    """allauth's sign-up with the person's name (the donation form's contact person starts from
    it), and a taken address said plainly beside the field.

    The issue asks for this message; the password reset still answers the same for known and
    unknown addresses, and sign-up is rate limited per IP address.
    """

    first_name = forms.CharField(
        label=_("Voornaam"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "given-name"}),
    )
    last_name = forms.CharField(
        label=_("Achternaam"),
        max_length=150,
        widget=forms.TextInput(attrs={"autocomplete": "family-name"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.order_fields(["first_name", "last_name", "email"])

    def validate_unique_email(self, value):
        if (
            User.objects.filter(email__iexact=value).exists()
            or EmailAddress.objects.filter(email__iexact=value).exists()
        ):
            raise ValidationError(
                _(
                    "Er bestaat al een account met dit e-mailadres. Log in of vraag een nieuw "
                    "wachtwoord aan."
                ),
                code="email_taken",
            )
        return super().validate_unique_email(value)


class OrganisationForm(forms.ModelForm):
    phone = PhoneNumberField(
        label=_("Telefoonnummer"),
        region="NL",
        error_messages={
            "invalid": _(
                "Vul een geldig Nederlands telefoonnummer in, zoals 030 123 4567 of 06 12345678."
            )
        },
    )

    website = forms.URLField(label=_("Website"), required=False, assume_scheme="https")
    # Room for the spaces people type ("6123 4567"): they are taken out before the model's
    # eight-digit rule; the model field's max_length of 8 would cut the input in the browser.
    kvk_number = forms.CharField(
        label=_("KvK-nummer"),
        max_length=16,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "off"}),
    )

    class Meta:
        model = Organisation
        fields = [
            "kind",
            "name",
            "kvk_number",
            "brin_code",
            "sector",
            "street",
            "postcode",
            "city",
            "phone",
            "website",
        ]
        widgets = {
            "kind": forms.RadioSelect,
            "postcode": forms.TextInput(attrs={"autocomplete": "postal-code"}),
            "street": forms.TextInput(attrs={"autocomplete": "address-line1"}),
            "city": forms.TextInput(attrs={"autocomplete": "address-level2"}),
        }

    def clean_kvk_number(self):
        return "".join((self.cleaned_data.get("kvk_number") or "").split())

    def clean_brin_code(self):
        return (self.cleaned_data.get("brin_code") or "").strip().upper()

    def clean_postcode(self):
        return normalise_postcode(self.cleaned_data.get("postcode", ""))

    def clean(self):
        cleaned = super().clean()
        kind, sector = cleaned.get("kind"), cleaned.get("sector")
        if kind == Organisation.Kind.REQUESTER and not sector:
            self.add_error("sector", _("Kies de sector van uw organisatie."))
        if kind and kind != Organisation.Kind.REQUESTER:
            cleaned["sector"] = ""
        return cleaned


class InvitationForm(forms.Form):
    email = forms.EmailField(label=_("E-mailadres van uw collega"))
    role = forms.ChoiceField(
        label=_("Rol"), choices=Membership.Role.choices, initial=Membership.Role.MEMBER
    )


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("Reden"), widget=forms.Textarea(attrs={"rows": 3}))


class FreeTextWidget(forms.Textarea):
    """A text area that, after a warning, offers the box 'I checked it' beside the text."""

    template_name = "allemaal/widgets/free_text.html"
    warn = False

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["widget"]["warn"] = self.warn
        context["widget"]["checked_name"] = f"{name}{FreeTextCheck.CHECKED_SUFFIX}"
        return context


class FreeTextCheck:
    """Mixin for forms with free text (motivations, notes, summaries): the notice not to name
    children or clients beside each field, a cap on its length, and before saving a check for
    what looks like personal data. The check warns (beside the field) and lets the writer save
    after ticking 'nagekeken'; it never blocks."""

    free_text_fields: tuple[str, ...] = ()
    CHECKED_SUFFIX = "_nagekeken"

    def __init__(self, *args, **kwargs):
        from .privacy import FREE_TEXT_MAX_LENGTH, FREE_TEXT_NOTICE

        super().__init__(*args, **kwargs)
        for name in self.free_text_fields:
            field = self.fields[name]
            rows = field.widget.attrs.get("rows", 3)
            field.widget = FreeTextWidget(attrs={**field.widget.attrs, "rows": rows})
            if not getattr(field, "max_length", None):
                field.max_length = FREE_TEXT_MAX_LENGTH
                field.validators.append(
                    forms.CharField(max_length=FREE_TEXT_MAX_LENGTH).validators[-1]
                )
            field.widget.attrs["maxlength"] = str(field.max_length)
            notice = str(FREE_TEXT_NOTICE)
            if notice not in str(field.help_text or ""):
                field.help_text = f"{field.help_text} {notice}".strip()

    def clean(self):
        from .privacy import personal_data_hints

        cleaned = super().clean()
        for name in self.free_text_fields:
            text = cleaned.get(name) or ""
            hints = personal_data_hints(text) if text else []
            if hints and not self.data.get(self.add_prefix(name) + self.CHECKED_SUFFIX):
                self.fields[name].widget.warn = True
                self.add_error(
                    name,
                    _(
                        "Kijk dit nog even na: er staat %(what)s in. Noem geen namen of andere "
                        "gegevens van kinderen of cliënten. Klopt het zo? Vink dan "
                        "'nagekeken' aan en sla opnieuw op."
                    )
                    % {"what": ", ".join(str(h) for h in hints)},
                )
        return cleaned
