"""Model fields shared by the apps."""

from phonenumber_field import modelfields
from phonenumber_field.phonenumber import to_python


class StoredPhoneText(str):
    """A phone number's text as read from the database, parsed when its field is first read
    on a model (LazyPhoneNumberDescriptor); `values()` and `values_list()` give this text."""

    __slots__ = ()


class LazyPhoneNumberDescriptor(modelfields.PhoneNumberDescriptor):
    """Parses a number read from the database when the field is first read, not when its row
    is loaded: `phonenumbers` takes about 50 microseconds a number, and the workshop page
    parsed 56 numbers of donors and donations it never showed. Reading gives what the
    library gives (its `from_db_value`: `to_python` of the stored text, without a region)."""

    def __get__(self, instance, owner):
        if instance is None:
            return self
        value = super().__get__(instance, owner)
        if type(value) is StoredPhoneText:
            value = to_python(str(value))
            instance.__dict__[self.field.name] = value
        return value

    def __set__(self, instance, value):
        if type(value) is StoredPhoneText:
            instance.__dict__[self.field.name] = value
        else:
            super().__set__(instance, value)


class PhoneNumberField(modelfields.PhoneNumberField):
    """django-phonenumber-field's field, parsed when read (LazyPhoneNumberDescriptor). The
    column is the library's: migrations name the library's field."""

    descriptor_class = LazyPhoneNumberDescriptor

    def from_db_value(self, value, expression, connection):
        return StoredPhoneText(value) if value else value

    def deconstruct(self):
        name, _path, args, kwargs = super().deconstruct()
        return name, "phonenumber_field.modelfields.PhoneNumberField", args, kwargs
