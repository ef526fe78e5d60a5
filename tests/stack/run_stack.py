"""The whole stack in processes, without containers, under faults (issue #16). Run by .ci/run:

    .venv/bin/python tests/stack/run_stack.py

It starts the Procfile's gunicorn, two Celery workers and beat in production mode against
PostgreSQL (its own database, STACK_DATABASE_URL), a private Redis broker it starts itself (so
it may stop it), the cache on the shared Redis (STACK_CACHE_URL, its own db number) and an SMTP
sink in this process. Then, over HTTP as a browser behind the TLS proxy would:

1. a donor pledges a donation; a coordinator (with TOTP) runs the allocation and approves it;
   the donor's and the school board's mails arrive in the sink;
2. a run is queued to a worker, held at its lock, and that worker is SIGKILLed: the run is
   marked failed (interrupted) and a new run completes, without anyone doing anything;
3. the broker is stopped: pledges still answer quickly and their mails wait in the outbox; the
   broker comes back and every mail arrives;
4. every notification was sent exactly once (the database and the sink agree), and every
   process stops cleanly on SIGTERM.

Exits non-zero on the first failed check. Logs are kept in the printed directory. The Procfile's
lines are started here rather than by `honcho start`, because honcho stops every process as soon
as one exits, and this test kills a worker on purpose.
"""

import base64
import email
import hashlib
import hmac
import json
import os
import re
import secrets
import shutil
import signal
import socket
import socketserver
import struct
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from email.header import decode_header, make_header
from http.client import HTTPConnection
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
DATABASE_URL = os.environ.get("STACK_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/stack")
CACHE_URL = os.environ.get("STACK_CACHE_URL", "redis://127.0.0.1:6379/11")
# distribution/services/locks.py: DECISIONS_LOCK_KEY, which a run takes exclusively.
DECISIONS_LOCK_KEY = 0x616C6C6F632D64
PASSWORD = "Correct-Paard-Batterij-9"  # noqa: S105 - tests/factories.py, a throwaway database
STARTED = time.monotonic()


class StackFailure(AssertionError):
    pass


def say(text: str) -> None:
    print(f"[stack {time.monotonic() - STARTED:6.1f}s] {text}", flush=True)


def check(condition, text: str) -> None:
    if not condition:
        raise StackFailure(text)
    say(f"ok: {text}")


def wait_for(condition, text: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            say(f"ok: {text}")
            return
        time.sleep(0.5)
    raise StackFailure(f"timed out after {timeout:.0f}s: {text}")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --- An SMTP sink (the mail server is outside the application) ----------------------------------


class SmtpSink(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, port: int):
        self.messages: list[dict] = []
        self.lock = threading.Lock()
        super().__init__(("127.0.0.1", port), SmtpHandler)

    def received(self) -> list[dict]:
        with self.lock:
            return list(self.messages)


class SmtpHandler(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        self.reply("220 stack-sink ESMTP")
        recipients: list[str] = []
        while line := self.rfile.readline():
            command = line.decode("utf-8", "replace").strip()
            verb = command.split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 stack-sink")
            elif verb == "MAIL":
                recipients = []
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(re.search(r"<([^>]*)>", command).group(1).lower())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 End data with <CR><LF>.<CR><LF>")
                data = b""
                while (chunk := self.rfile.readline()) not in (b".\r\n", b".\n", b""):
                    data += chunk[1:] if chunk.startswith(b"..") else chunk
                message = email.message_from_bytes(data)
                subject = " ".join(str(make_header(decode_header(message["Subject"]))).split())
                with self.server.lock:
                    for to in recipients:
                        self.server.messages.append({"to": to, "subject": subject})
                self.reply("250 OK queued")
            elif verb == "QUIT":
                self.reply("221 Bye")
                return
            else:  # RSET, NOOP
                self.reply("250 OK")


# --- Processes -----------------------------------------------------------------------------------


class Process:
    """One process group (a Procfile line through `sh -c exec ...`), logging to a file."""

    def __init__(self, name: str, command: str, env: dict, logs: Path):
        # libpq names the process's database sessions after it (pg_stat_activity.application_name).
        self.name, self.command, self.env = name, command, {**env, "PGAPPNAME": name}
        self.log = logs / f"{name}.log"
        self.popen: subprocess.Popen | None = None

    def start(self) -> "Process":
        self.popen = subprocess.Popen(
            ["/bin/sh", "-c", self.command],
            cwd=ROOT,
            env=self.env,
            stdout=self.log.open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def signal(self, sig: int) -> None:
        if self.alive():
            os.killpg(self.popen.pid, sig)

    def stop(self, timeout: float = 30) -> int | None:
        """SIGTERM, then wait; a process that does not stop in time is killed (and reported)."""
        if self.popen is None:
            return None
        if self.alive():
            self.signal(signal.SIGTERM)
        try:
            return self.popen.wait(timeout)
        except subprocess.TimeoutExpired:
            self.signal(signal.SIGKILL)
            self.popen.wait(10)
            return None

    def log_text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""


def procfile() -> dict[str, str]:
    lines = (ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(":", 1) for line in lines if line.strip() and not line.startswith("#"))


def manage(env: dict, *args: str, timeout: float = 300) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if result.returncode != 0:
        raise StackFailure(f"manage.py {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    return result.stdout


# --- A browser behind the TLS proxy ------------------------------------------------------------


class Browser:
    """Cookies, CSRF and the headers Caddy adds (X-Forwarded-Proto: https): the production
    settings then see a secure request, as behind the real proxy."""

    def __init__(self, port: int):
        self.port = port
        self.origin = f"https://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, data: dict | None = None, *, timeout=30):
        connection = HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {
            "Host": f"127.0.0.1:{self.port}",
            "X-Forwarded-Proto": "https",
            "Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items()),
        }
        body = None
        if data is not None:
            data = {"csrfmiddlewaretoken": self.cookies.get("csrftoken", ""), **data}
            body = urlencode(data, doseq=True)
            headers |= {
                "Content-Type": "application/x-www-form-urlencoded",
                "Origin": self.origin,
                "Referer": self.origin + path,
            }
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        for header, value in response.getheaders():
            if header.lower() == "set-cookie":
                name, _, rest = value.partition("=")
                self.cookies[name] = rest.split(";", 1)[0]
        text = response.read().decode("utf-8", "replace")
        location = response.getheader("Location", "")
        connection.close()
        return response.status, urlsplit(location).path if location else "", text

    def get(self, path: str):
        return self.request("GET", path)

    def post(self, path: str, data: dict):
        return self.request("POST", path, data)

    def log_in(self, email_address: str, *, totp_secret: str | None = None) -> None:
        self.get("/accounts/login/")
        status, location, _ = self.post(
            "/accounts/login/", {"login": email_address, "password": PASSWORD}
        )
        check(status == 302, f"{email_address} logs in (HTTP {status} to {location})")
        if totp_secret:
            check("/2fa/" in location, "the coordinator is asked for a TOTP code")
            self.get(location)
            status, location, _ = self.post(location, {"code": totp(totp_secret)})
            check(status == 302 and "/2fa/" not in location, "the TOTP code is accepted")


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it."""
    key = base64.b32decode(secret)
    counter = struct.pack(">Q", int((at or time.time()) // 30))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


DONATION_FORM = {
    "laptops": "12",
    "chromebooks": "0",
    "tablets": "3",
    "chargers": "12",
    "year_from": "2016",
    "year_to": "2020",
    "brands": "Dell, HP",
    "pickup_street": "Marktplein 3",
    "pickup_postcode": "9711 AB",
    "pickup_city": "Groningen",
    "contact_name": "Alice de Vries",
    "contact_phone": "050 123 4567",
    "consent_transfer": "on",
}


# --- The stack -----------------------------------------------------------------------------------


class Stack:
    def __init__(self, workdir: Path):
        self.workdir = workdir
        self.web_port, self.broker_port, self.smtp_port = free_port(), free_port(), free_port()
        self.sink = SmtpSink(self.smtp_port)
        threading.Thread(target=self.sink.serve_forever, daemon=True).start()
        self.broker: subprocess.Popen | None = None
        self.processes: dict[str, Process] = {}
        self.db: psycopg.Connection | None = None
        self.env = {
            **os.environ,
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
            "DJANGO_ENV": "production",
            "SECRET_KEY": secrets.token_urlsafe(50),
            "ALLOWED_HOSTS": "127.0.0.1",
            "SITE_URL": f"https://127.0.0.1:{self.web_port}",
            "DATABASE_URL": DATABASE_URL,
            "CELERY_BROKER_URL": f"redis://127.0.0.1:{self.broker_port}/0",
            "REDIS_URL": CACHE_URL,
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(self.smtp_port),
            "EMAIL_USE_TLS": "0",
            "STATIC_ROOT": str(workdir / "static"),
            "MEDIA_ROOT": str(workdir / "media"),
            "WEB_PORT": str(self.web_port),
            "BEAT_SCHEDULE": str(workdir / "celerybeat-schedule"),
            # Short enough to watch within minutes; the same mechanisms as in production.
            "NOTIFICATION_STUCK_AFTER_SECONDS": "5",
            "NOTIFICATION_RETRY_BASE_SECONDS": "5",
            "CELERY_TASK_TIME_LIMIT": "20",
            "CELERY_LONGEST_TASK_LIMIT": "20",
            "CELERY_VISIBILITY_TIMEOUT": "30",
            "LOG_LEVEL": "INFO",
        }
        for name in ("FAST_PASSWORD_HASHER", "DEBUG", "SENTRY_DSN", "EMAIL_BACKEND"):
            self.env.pop(name, None)

    # -- services --

    def create_database(self) -> None:
        name = urlsplit(DATABASE_URL).path.lstrip("/")
        admin_url = DATABASE_URL.rsplit("/", 1)[0] + "/postgres"
        with psycopg.connect(admin_url, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{name}"')
        self.db = psycopg.connect(DATABASE_URL, autocommit=True)

    def start_broker(self) -> None:
        self.broker = subprocess.Popen(
            [
                shutil.which("redis-server") or "redis-server",
                "--port",
                str(self.broker_port),
                "--bind",
                "127.0.0.1",
                "--dir",
                str(self.workdir),
                "--appendonly",
                "yes",
                "--appendfsync",
                "always",
                "--save",
                "",
                "--maxmemory-policy",
                "noeviction",
            ],
            stdout=(self.workdir / "broker.log").open("a"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(self.broker_answers, f"the broker answers on port {self.broker_port}", 15)

    def broker_answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.broker_port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop_broker(self) -> None:
        self.broker.terminate()  # redis writes its append-only file and exits
        self.broker.wait(15)

    def query(self, sql: str, params=()) -> list[tuple]:
        return self.db.execute(sql, params).fetchall()

    # -- the processes of the Procfile --

    def start(self, name: str) -> Process:
        command = procfile()[name].strip()
        process = Process(name, command, self.env, self.workdir).start()
        self.processes[name] = process
        return process

    def start_all(self) -> None:
        for name in procfile():
            self.start(name)
        wait_for(
            lambda: self.health()[0] == 200, "gunicorn answers /healthz/ready (all parts up)", 60
        )
        for name in ("worker1", "worker2"):
            wait_for(
                lambda name=name: " ready." in self.processes[name].log_text(),
                f"{name} is ready",
                60,
            )
        wait_for(lambda: "beat: Starting" in self.processes["beat"].log_text(), "beat runs", 30)

    def health(self) -> tuple[int, dict]:
        try:
            connection = HTTPConnection("127.0.0.1", self.web_port, timeout=5)
            connection.request("GET", "/healthz/ready", headers={"Host": "10.1.2.3"})
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"{}")
        except (OSError, ValueError):
            return 0, {}

    # -- what the checks read --

    def mails_to(self, address: str) -> list[str]:
        return [m["subject"] for m in self.sink.received() if m["to"] == address]

    def notifications(self, status: str | None = None) -> list[tuple]:
        sql = "SELECT id, to_email, subject, status FROM allemaal_notification"
        if status:
            return self.query(sql + " WHERE status = %s", (status,))
        return self.query(sql)

    def runs(self) -> list[tuple]:
        return self.query("SELECT id, status, error FROM distribution_allocationrun ORDER BY id")

    def shutdown(self) -> dict[str, int | None]:
        codes = {name: process.stop() for name, process in self.processes.items()}
        if self.broker and self.broker.poll() is None:
            self.stop_broker()
        self.sink.shutdown()
        return codes


# --- The scenario --------------------------------------------------------------------------------


def journey(stack: Stack, data: dict) -> None:
    say("1. a donation pledged ... an allocation approved, over HTTP")
    donor = Browser(stack.web_port)
    donor.log_in(data["donor"])
    donor.get("/donaties/nieuw/")
    status, location, _ = donor.post("/donaties/nieuw/", DONATION_FORM)
    check(status == 302, f"the donor pledges a donation (HTTP {status} to {location})")
    wait_for(lambda: stack.mails_to(data["donor"]), "the donor's confirmation mail arrives", 30)

    coordinator = Browser(stack.web_port)
    coordinator.log_in(data["coordinator"], totp_secret=data["totp_secret"])
    coordinator.get("/admin/distribution/allocationrun/")
    status, location, _ = coordinator.post("/admin/distribution/allocationrun/nu/", {})
    check(status == 302 and "allocation" in location, "the coordinator runs the allocation")
    _status, _location, page = coordinator.get("/admin/distribution/allocationrun/")
    run_id = re.search(r'name="_selected_action" value="(\d+)"', page).group(1)
    status, _location, _ = coordinator.post(
        "/admin/distribution/allocationrun/",
        {"action": "approve_all", "_selected_action": run_id, "index": "0"},
    )
    check(status == 302, f"the coordinator approves run {run_id}")
    approved, proposed = stack.query(
        "SELECT count(*) FILTER (WHERE a.status = 'approved'), max(r.proposals)"
        " FROM distribution_allocation a JOIN distribution_allocationrun r ON r.id = a.run_id"
        " WHERE a.request_id = %s",
        (data["request"],),
    )[0]
    check(0 < approved == proposed, f"the school board's {approved} proposed devices are approved")
    wait_for(lambda: stack.mails_to(data["school"]), "the school board's approval mail arrives", 30)


def killed_worker(stack: Stack) -> None:
    say("2. a worker is SIGKILLed during an allocation run")
    before = max((r[0] for r in stack.runs()), default=0)
    hold = psycopg.connect(DATABASE_URL)  # a transaction holding the lock a run waits for
    hold.execute("SELECT pg_advisory_xact_lock(%s)", (DECISIONS_LOCK_KEY,))
    manage(
        stack.env,
        "shell",
        "-c",
        "from distribution.tasks import run_allocation; run_allocation.delay(trigger='manual')",
    )
    wait_for(
        lambda: any(r[0] > before and r[1] == "running" for r in stack.runs()),
        "a worker started the run (its row says running)",
        30,
    )
    run_id = min(r[0] for r in stack.runs() if r[0] > before)
    victim = busy_worker(stack)
    stack.processes[victim].signal(signal.SIGKILL)
    stack.processes[victim].popen.wait(10)
    say(f"killed {victim} (SIGKILL to its process group) in the middle of run {run_id}")
    hold.rollback()
    hold.close()

    def recovered() -> bool:
        rows = {r[0]: r for r in stack.runs()}
        return rows[run_id][1] == "failed" and any(
            pk > run_id and status == "completed" for pk, status, _e in rows.values()
        )

    wait_for(recovered, f"run {run_id} is marked failed and a new run completed, unattended", 120)
    error = {r[0]: r[2] for r in stack.runs()}[run_id]
    check(error.startswith("Onderbroken"), f"run {run_id} says it was interrupted: {error[:60]}")


def busy_worker(stack: Stack) -> str:
    """The worker (Procfile name) whose database session waits at the lock the test holds."""
    waiting: list[str] = []

    def found() -> bool:
        waiting[:] = [
            name
            for (name,) in stack.query(
                "SELECT application_name FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND wait_event = 'advisory'"
            )
        ]
        return bool(waiting)

    wait_for(found, "the run waits at the decisions lock", 30)
    return waiting[0]


def broker_outage(stack: Stack, data: dict) -> None:
    say("3. the broker stops for a moment")
    stack.stop_broker()
    check(stack.health()[1].get("failing") == ["broker"], "readiness names the broker (503)")
    donor = Browser(stack.web_port)
    donor.log_in(data["donor"])
    mails_before = len(stack.mails_to(data["donor"]))
    for n in range(2):
        donor.get("/donaties/nieuw/")
        started = time.monotonic()
        status, _location, _ = donor.post("/donaties/nieuw/", DONATION_FORM)
        elapsed = time.monotonic() - started
        check(status == 302 and elapsed < 2, f"pledge {n + 1} commits in {elapsed:.2f}s")
    pending = stack.notifications("pending")
    check(len(pending) >= 2, f"{len(pending)} mails wait in the outbox, none lost")
    time.sleep(3)
    stack.start_broker()
    wait_for(lambda: stack.health()[0] == 200, "readiness is ok again", 30)
    wait_for(
        lambda: (
            len(stack.mails_to(data["donor"])) >= mails_before + 2
            and not stack.notifications("pending")
        ),
        "the relay sent the waiting mails once the broker was back",
        120,
    )


def exactly_once(stack: Stack) -> None:
    say("4. nothing lost, nothing sent twice")
    rows = stack.notifications()
    check(all(status == "sent" for *_rest, status in rows), f"all {len(rows)} notifications sent")
    in_db = Counter((to.lower(), " ".join(subject.split())) for _id, to, subject, _s in rows)
    in_sink = Counter((m["to"], m["subject"]) for m in stack.sink.received())
    check(in_db == in_sink, f"the sink holds each of the {len(rows)} mails exactly once")


def main() -> int:
    workdir = Path(tempfile.mkdtemp(prefix="allemaal-stack-"))
    say(f"logs in {workdir}")
    stack = Stack(workdir)
    ok = False
    try:
        stack.create_database()
        stack.start_broker()
        # Static files (production's manifest) are collected while the migrations run.
        collecting = subprocess.Popen(
            [sys.executable, "manage.py", "collectstatic", "--noinput"],
            cwd=ROOT,
            env=stack.env,
            stdout=subprocess.DEVNULL,
        )
        manage(stack.env, "migrate", "--noinput")
        check(collecting.wait(120) == 0, "static files collected, migrations applied")
        output = manage(stack.env, "shell", "-c", (ROOT / "tests/stack/setup_data.py").read_text())
        data = json.loads(output.split("STACK-DATA ", 1)[1].splitlines()[0])
        say("database, broker and data are ready; starting the Procfile")
        stack.start_all()
        journey(stack, data)
        killed_worker(stack)
        broker_outage(stack, data)
        exactly_once(stack)
        ok = True
    except StackFailure as failure:
        say(f"FAILED: {failure}")
    finally:
        codes = stack.shutdown()
        say(f"exit codes after SIGTERM: {codes}")
        clean = all(code == 0 for name, code in codes.items() if name != _killed(stack))
        if ok and not clean:
            say("FAILED: a process did not stop cleanly on SIGTERM")
            ok = False
        if not ok:
            for name in ("web", "worker1", "worker2", "beat"):
                say(f"--- tail of {name}.log ---")
                print(stack.processes[name].log_text()[-3000:] if name in stack.processes else "")
    say("PASSED" if ok else "FAILED")
    return 0 if ok else 1


def _killed(stack: Stack) -> str | None:
    """The worker killed on purpose has no clean exit to report."""
    for name, process in stack.processes.items():
        if process.popen is not None and process.popen.returncode == -signal.SIGKILL:
            return name
    return None


if __name__ == "__main__":
    sys.exit(main())
