"""The users of bench/bench_load.py (read by `locust -f`; not run on its own).

The plan (a JSON file named by BENCH_LOAD_PLAN) holds, per role, the sessions of logged-in users,
each with the pages it opens. Each simulated user takes one session of its role and opens
its pages in turn, starting at a random one; BENCH_LOAD_WAIT ("1-5" or "0") is the pause between
two pages in seconds. HealthzUser asks only /healthz (the floor, run on its own).
bench_load.py names the classes to run on locust's command line.
"""

import itertools
import json
import os
import random

from locust import FastHttpUser, between, constant, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
low, _sep, high = os.environ.get("BENCH_LOAD_WAIT", "1-5").partition("-")
WAIT = constant(0) if float(low) == 0 and not high else between(float(low), float(high or low))
_sessions = {role: itertools.cycle(plan["sessions"]) for role, plan in PLAN["roles"].items()}


class RoleUser(FastHttpUser):
    abstract = True
    role = ""
    wait_time = WAIT

    def on_start(self):
        session = next(_sessions[self.role])
        self.cookie = f"sessionid={session['cookie']}"
        pages = session["pages"]
        start = random.randrange(len(pages))  # noqa: S311 - load spread, not security
        self.pages = itertools.cycle(pages[start:] + pages[:start])

    @task
    def open_page(self):
        label, url = next(self.pages)
        with self.client.get(
            url, name=label, headers={"Cookie": self.cookie}, catch_response=True
        ) as response:
            # A redirect (to the log-in or two-step page) is an error here: the page was not served.
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")


class OrganisationUser(RoleUser):
    role = "organisation"
    weight = PLAN["roles"]["organisation"]["weight"]


class DonorUser(RoleUser):
    role = "donor"
    weight = PLAN["roles"]["donor"]["weight"]


class RefurbisherUser(RoleUser):
    role = "refurbisher"
    weight = PLAN["roles"]["refurbisher"]["weight"]


class CoordinatorUser(RoleUser):
    role = "coordinator"
    weight = PLAN["roles"]["coordinator"]["weight"]


class HealthzUser(FastHttpUser):
    wait_time = WAIT

    @task
    def healthz(self):
        self.client.get("/healthz", name="/healthz")
