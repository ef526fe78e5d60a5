"""`make run`'s terminal: the demo data's mails go to files, the demo log-ins come last."""

import io

import pytest
from django.core.management import call_command


@pytest.mark.django_db(transaction=True)
def test_seed_demo_writes_mails_to_files_and_prints_the_log_ins_last(settings, tmp_path, capsys):
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "sent-mail")
    out = io.StringIO()
    call_command("seed_demo", stdout=out)

    assert "Subject:" not in capsys.readouterr().out  # no mail in the terminal
    assert any((tmp_path / "sent-mail").iterdir())  # they are in the folder instead
    tail = out.getvalue().rstrip().splitlines()
    start = max(i for i, line in enumerate(tail) if line.startswith("Demo log-ins"))
    assert "Subject:" not in "\n".join(tail[start:])
    assert f"written to {tmp_path / 'sent-mail'}/" in "\n".join(tail[start:])
    assert "coordinator@demo.allemaal-digitaal.nl" in "\n".join(tail[start:])


def test_make_run_sends_mail_to_files():
    from pathlib import Path

    makefile = (Path(__file__).resolve().parents[2] / "Makefile").read_text()
    assert "run: export EMAIL_BACKEND ?= django.core.mail.backends.filebased.EmailBackend" in (
        makefile
    )


@pytest.mark.django_db(transaction=True)
def test_the_demo_leaves_the_security_log_quiet():
    import logging

    class Lines(logging.Handler):
        def __init__(self):
            super().__init__(level=logging.DEBUG)
            self.records = []

        def emit(self, record):
            self.records.append(record)

    logger = logging.getLogger("allemaal.security")
    level = logger.level
    handler = Lines()
    logger.addHandler(handler)
    try:
        call_command("seed_demo", stdout=io.StringIO())
    finally:
        logger.removeHandler(handler)
    assert [r for r in handler.records if r.levelno < logging.WARNING] == []
    assert logger.level == level  # real events are logged again afterwards
