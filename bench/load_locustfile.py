"""The users of bench/bench_load.py (read by `locust -f`; not run on its own).

The plan (a JSON file named by BENCH_LOAD_PLAN) holds, per role, the sessions of logged-in users,
each with the pages it opens. Each simulated user takes one session of its role and opens
its pages in turn, starting at a random one; BENCH_LOAD_WAIT ("1-5" or "0") is the pause between
two pages in seconds. A page with an action is a write (WRITES): the refurbisher's intake scan
(a new serial each time, as the handheld scanner posts it; 200, or 409 for a refused scan) and
the donor's pledge (302 to the new donation); anything else is an error. HealthzUser asks only
/healthz (the floor, run on its own).
bench_load.py names the classes to run on locust's command line.
"""

import itertools
import json
import os
import random
import uuid
from urllib.parse import urlencode

from locust import FastHttpUser, between, constant, task

PLAN = json.loads(open(os.environ["BENCH_LOAD_PLAN"], encoding="utf-8").read())  # noqa: SIM115
low, _sep, high = os.environ.get("BENCH_LOAD_WAIT", "1-5").partition("-")
WAIT = constant(0) if float(low) == 0 and not high else between(float(low), float(high or low))
_sessions = {role: itertools.cycle(plan["sessions"]) for role, plan in PLAN["roles"].items()}
CSRF = PLAN["csrf"]


def scan() -> tuple[dict, dict, set]:
    """A unit not on the donor's list: added to the donation with its asset tag."""
    form = {"serial": f"LOAD-{uuid.uuid4().hex[:16]}", "kind": "laptop"}
    return form, {"Accept": "application/json"}, {200, 409}


def pledge() -> tuple[dict, dict, set]:
    form = {
        "laptops": "12",
        "chromebooks": "0",
        "tablets": "3",
        "chargers": "12",
        "year_from": "2016",
        "year_to": "2020",
        "brands": "Dell, HP",
        "pickup_street": "Marktplein 3",
        "pickup_postcode": "9711AB",
        "pickup_city": "Groningen",
        "contact_name": PLAN["pledged_by"],  # never a page of the mix (bench_load.plan)
        "contact_phone": "050 123 4567",
        "consent_transfer": "on",
    }
    return form, {}, {302}


WRITES = {"scan": scan, "pledge": pledge}


class RoleUser(FastHttpUser):
    abstract = True
    role = ""
    wait_time = WAIT

    def on_start(self):
        session = next(_sessions[self.role])
        self.cookie = f"sessionid={session['cookie']}; csrftoken={CSRF}"
        pages = session["pages"]
        start = random.randrange(len(pages))  # noqa: S311 - load spread, not security
        self.pages = itertools.cycle(pages[start:] + pages[:start])

    @task
    def open_page(self):
        label, url, *action = next(self.pages)
        if action:
            self.write(label, url, action[0])
            return
        with self.client.get(
            url, name=label, headers={"Cookie": self.cookie}, catch_response=True
        ) as response:
            # A redirect (to the log-in or two-step page) is an error here: the page was not served.
            if response.status_code != 200:
                response.failure(f"{response.status_code} for {url}")

    def write(self, label, url, action):
        form, headers, expected = WRITES[action]()
        with self.client.post(
            url,
            name=label,
            data=urlencode({**form, "csrfmiddlewaretoken": CSRF}),
            headers={
                "Cookie": self.cookie,
                "Content-Type": "application/x-www-form-urlencoded",
                **headers,
            },
            allow_redirects=False,
            catch_response=True,
        ) as response:
            if response.status_code in expected:
                response.success()  # a refused scan (409) is an answer, not an error
            else:
                response.failure(f"{response.status_code} for POST {url}")


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
