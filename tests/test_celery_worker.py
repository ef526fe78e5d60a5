"""The notification outbox against a real Redis broker and a real Celery worker process."""

import os
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection, transaction
from kombu import pools as kombu_pools

from allemaal import services
from allemaal.models import Notification
from config.celery import app as celery_app

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_redis(port: int) -> subprocess.Popen:
    proc = subprocess.Popen(
        [
            shutil.which("redis-server") or "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    wait_for(lambda: _port_open(port), what=f"redis on {port}")
    return proc


def _port_open(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.2):
            return True
    except OSError:
        return False


def wait_for(condition, *, what: str, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def start_worker(broker_url: str, mail_dir: Path) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "CELERY_BROKER_URL": broker_url,
        "DATABASE_URL": os.environ.get("DATABASE_URL", "").rsplit("/", 1)[0] + "/" + db["NAME"]
        if "postgresql" in db["ENGINE"]
        else "",
        "SQLITE_PATH": str(db["NAME"]),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(mail_dir),
    }
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "config",
            "worker",
            "--pool=solo",
            "--concurrency=1",
            "--loglevel=INFO",
            "--without-gossip",
            "--without-mingle",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(mail_dir.parent / "worker.log").open("w"),
    )


def point_app_at(url: str) -> None:
    """Re-point this process's Celery app (and its cached connection pools) at a broker."""
    kombu_pools.reset()
    celery_app.conf.broker_url = url
    celery_app.conf.broker_write_url = url
    celery_app.conf.broker_read_url = url
    celery_app._pool = None
    celery_app.amqp._producer_pool = None


@pytest.fixture
def broker(monkeypatch, settings):
    """A private Redis for this test, so stopping it cannot disturb anything else."""
    if "postgresql" not in connection.settings_dict["ENGINE"]:
        pytest.skip("a worker process shares the test database only on PostgreSQL")
    port = free_port()
    proc = start_redis(port)
    url = f"redis://127.0.0.1:{port}/0"
    celery_app.conf.task_always_eager = False
    settings.CELERY_TASK_ALWAYS_EAGER = False
    point_app_at(url)
    yield {"port": port, "url": url, "proc": proc}
    proc.terminate()
    proc.wait(10)
    point_app_at(django_settings.CELERY_BROKER_URL)


def queue_mail(subject: str) -> Notification:
    with transaction.atomic():
        return services.notification_queue_rendered(
            kind="test", to_email="ontvanger@example.org", subject=subject, body_text="Hallo"
        )


def sent_files(mail_dir: Path) -> list[str]:
    return [p.read_text() for p in mail_dir.glob("*")] if mail_dir.exists() else []


def test_a_real_worker_sends_a_queued_notification(broker, tmp_path):
    worker = start_worker(broker["url"], tmp_path / "mail")
    try:
        notification = queue_mail("Bericht via de worker")
        wait_for(
            lambda: Notification.objects.get(pk=notification.pk).status == "sent",
            what="the worker to send the notification",
            timeout=60,
        )
        assert any("Bericht via de worker" in text for text in sent_files(tmp_path / "mail"))
    finally:
        worker.terminate()
        worker.wait(20)


def test_a_notification_queued_while_the_broker_is_down_is_sent_once_it_is_back(
    broker, tmp_path, settings
):
    broker["proc"].terminate()
    broker["proc"].wait(10)
    point_app_at(broker["url"])
    celery_app.conf.broker_connection_max_retries = 1
    celery_app.conf.broker_transport_options = {"max_retries": 1}

    settings.NOTIFICATION_STUCK_AFTER_SECONDS = 0  # the relay may take the row at once
    notification = queue_mail("Bericht na storing")  # enqueue fails; the change commits
    notification.refresh_from_db()
    assert notification.status == "pending"

    start_redis(broker["port"])
    worker = start_worker(broker["url"], tmp_path / "mail")
    try:
        point_app_at(broker["url"])
        assert services.notifications_resend_stuck() == 1
        wait_for(
            lambda: Notification.objects.get(pk=notification.pk).status == "sent",
            what="the resent notification",
            timeout=60,
        )
        assert sum("Bericht na storing" in t for t in sent_files(tmp_path / "mail")) == 1
    finally:
        worker.terminate()
        worker.wait(20)
