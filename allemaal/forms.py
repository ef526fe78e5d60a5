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
