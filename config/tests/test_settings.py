import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
# Variables that the production check must not inherit from the test process.
NOT_INHERITED = {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
PRODUCTION = {
    "DJANGO_ENV": "production",
    "SECRET_KEY": "k3y-" + "abcdefghij" * 6,
    "ALLOWED_HOSTS": "allemaal-digitaal.example",
    "DATABASE_URL": "postgres://u@127.0.0.1:5432/db",
}


def manage(*args, env):
    full_env = {k: v for k, v in os.environ.items() if k not in NOT_INHERITED}
    full_env.update(env)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.parametrize("missing", ["SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL"])
def test_production_refuses_to_start_without_a_required_variable(missing):
    env = {k: v for k, v in PRODUCTION.items() if k != missing}
    result = manage("check", env=env)
    assert result.returncode != 0
    assert f"{missing} must be set when DJANGO_ENV=production" in result.stderr


def test_production_settings_pass_the_deploy_check():
    result = manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION)
    assert result.returncode == 0, result.stderr


@pytest.mark.postgres
@pytest.mark.django_db
def test_postgresql_connections_do_not_compile_queries_just_in_time():
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SHOW jit")
        assert cursor.fetchone()[0] == "off"


def test_a_web_process_freezes_its_long_lived_objects_once_after_its_first_request(monkeypatch):
    from django.core.signals import request_finished

    from config import wsgi

    calls = []
    monkeypatch.setattr(wsgi.gc, "collect", lambda: calls.append("collect"))
    monkeypatch.setattr(wsgi.gc, "freeze", lambda: calls.append("freeze"))
    request_finished.connect(wsgi.freeze_long_lived_objects)
    wsgi.freeze_long_lived_objects()
    assert calls == ["collect", "freeze"]
    # it no longer listens: later requests do not freeze again
    assert not request_finished.disconnect(wsgi.freeze_long_lived_objects)
