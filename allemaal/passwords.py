"""Password rules beyond Django's own: no password that is one key pressed again and again, or
a run along the keyboard or the alphabet. Length does the rest; there are no composition rules
(no "one capital and one digit"), as NIST SP 800-63B and ASVS 2.1.9 advise."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

# Keys in the order a finger runs over them, rows joined (qwertyuiop + as...): a run may go on
# past a row's end. Each is also read backwards and round again (1234567890 + 12...).
_RUNS = (
    "1234567890",
    "qwertyuiopasdfghjklzxcvbnm",
    "azertyuiopqsdfghjklmwxcvbn",
    "qwertzuiopasdfghjklyxcvbnm",
    "abcdefghijklmnopqrstuvwxyz",
)
# A pattern of up to this many characters repeated ("ababab...") is as weak as one character.
_MAX_REPEATED_UNIT = 3


def is_repetition(password: str) -> bool:
    """One character or a short pattern, repeated: "aaaaaaaaaaaa", "abababababab"."""
    for size in range(1, _MAX_REPEATED_UNIT + 1):
        unit = password[:size]
        if (
            len(password) > size
            and unit * (len(password) // size) + unit[: len(password) % size] == password
        ):
            return True
    return False


def is_keyboard_run(password: str) -> bool:
    """The whole password is a run along one of the keyboard rows or the alphabet."""
    text = password.lower()
    for run in _RUNS:
        for sequence in (run, run[::-1]):
            if text in sequence * (len(text) // len(sequence) + 2):
                return True
    return False


class RepeatAndKeyboardRunValidator:
    """Refuses passwords made of one repeated character (or a short repeated pattern) and
    keyboard or alphabet runs."""

    def validate(self, password, user=None):
        if is_repetition(password):
            raise ValidationError(
                _(
                    "Dit wachtwoord herhaalt steeds hetzelfde teken. Kies bijvoorbeeld een paar "
                    "losse woorden achter elkaar."
                ),
                code="password_repetition",
            )
        if is_keyboard_run(password):
            raise ValidationError(
                _(
                    "Dit wachtwoord is een rij toetsen op het toetsenbord. Kies bijvoorbeeld een "
                    "paar losse woorden achter elkaar."
                ),
                code="password_keyboard_run",
            )

    def get_help_text(self):
        return _("Uw wachtwoord mag geen herhaald teken of rij toetsen (zoals qwerty) zijn.")
