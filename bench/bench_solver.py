"""Solver-only benchmark: in-memory inputs, no database (run by hand).

    .venv/bin/python bench/bench_solver.py            # full: 1M x 100k, 100k x 20k, 50k x 5k, ...
    .venv/bin/python bench/bench_solver.py --quick    # smaller sizes while developing
    .venv/bin/python bench/bench_solver.py --tracemalloc   # also Python-heap peak of each solve

Each case runs in its own process so that its peak memory (ru_maxrss) is its own. Inputs are
random but realistic: devices held by 40 refurbishers spread over the provinces by population,
requests from organisations of three kinds (school boards, elderly and social organisations), most
wanting 1-50 devices, so demand exceeds supply as it does in practice.

Cases: "national" and "regional" time `solve`; "compare" puts `solve` against `solve_exact` (the
objective gap), with the default organisation cap and a binding one; "balanced" has supply close
to demand and counts the meetable units a plain greedy pass by priority leaves unmet.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import time
import tracemalloc
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from distribution.solver import (  # noqa: E402
    DeviceIn,
    Policy,
    RequestIn,
    pair_score,
    request_priority,
    solve,
    solve_exact,
)
from distribution.solver_classes import meets_rules  # noqa: E402
from donations.vocabulary import CATEGORY_OF_KIND  # noqa: E402

TODAY = date(2025, 3, 1)
POPULATION = {  # millions, rounded; weights for where refurbishers and organisations are
    "Zuid-Holland": 3.8,
    "Noord-Holland": 2.95,
    "Noord-Brabant": 2.6,
    "Gelderland": 2.1,
    "Utrecht": 1.4,
    "Overijssel": 1.17,
    "Limburg": 1.12,
    "Friesland": 0.65,
    "Groningen": 0.59,
    "Drenthe": 0.5,
    "Flevoland": 0.44,
    "Zeeland": 0.39,
}
SPECS = {  # kind -> [((ram_gb, storage_gb), weight)]
    "laptop": [
        ((2, 64), 3),
        ((4, 64), 5),
        ((4, 128), 15),
        ((8, 128), 20),
        ((8, 256), 30),
        ((16, 256), 12),
        ((16, 512), 10),
        ((4, 32), 5),
    ],
    "chromebook": [((2, 16), 10), ((4, 32), 50), ((4, 64), 25), ((8, 64), 15)],
    "tablet": [((2, 32), 25), ((3, 32), 20), ((4, 64), 35), ((6, 128), 20)],
}
ORG_KINDS = {  # organisation kind -> (share of organisations, [(target group, weight)])
    "school_board": (0.45, [("primary_pupils", 4), ("secondary_pupils", 4), ("mbo_students", 2)]),
    "elderly": (0.2, [("isolated_elderly", 8), ("disability", 2)]),
    "social": (
        0.35,
        [("low_income_families", 5), ("newcomers", 3), ("disability", 2), ("other", 2)],
    ),
}


def generate(n_devices: int, n_requests: int, n_orgs: int, seed: int = 1):
    rng = random.Random(seed)
    provinces, weights = list(POPULATION), list(POPULATION.values())
    refurbisher_provinces = rng.choices(provinces, weights, k=40)
    refurbishers = rng.choices(range(40), k=n_devices)
    kinds = rng.choices(["laptop", "chromebook", "tablet"], [60, 15, 25], k=n_devices)
    grades = rng.choices("ABC", [30, 50, 20], k=n_devices)
    spec_draws = {
        kind: rng.choices([s for s, _ in options], [w for _, w in options], k=n_devices)
        for kind, options in SPECS.items()
    }
    devices = []
    for i in range(n_devices):
        kind = kinds[i]
        ram, storage = spec_draws[kind][i]
        refurbisher = refurbishers[i]
        devices.append(
            DeviceIn(
                id=i + 1,
                kind=kind,
                grade=grades[i],
                ram_gb=ram,
                storage_gb=storage,
                province=refurbisher_provinces[refurbisher],
                refurbisher_id=refurbisher + 1,
            )
        )

    kind_names = list(ORG_KINDS)
    org_kinds = rng.choices(kind_names, [ORG_KINDS[k][0] for k in kind_names], k=n_orgs)
    org_provinces = rng.choices(provinces, weights, k=n_orgs)
    # A few large organisations (school boards with many schools) file many requests.
    org_of_request = [int(n_orgs * rng.random() ** 2) for _ in range(n_requests)]
    requests = []
    for i in range(n_requests):
        org = org_of_request[i]
        groups = ORG_KINDS[org_kinds[org]][1]
        group = rng.choices([g for g, _ in groups], [w for _, w in groups])[0]
        total = _quantity(rng)
        laptops, tablets, either = _split(rng, group, total)
        need_by = None if rng.random() < 0.5 else TODAY + timedelta(days=rng.randint(-10, 120))
        requests.append(
            RequestIn(
                id=i + 1,
                organisation_id=org + 1,
                target_group=group,
                no_home_schooling=group.endswith(("pupils", "students")) and rng.random() < 0.35,
                province=org_provinces[org] if rng.random() < 0.9 else rng.choice(provinces),
                urgency=rng.choices(["high", "normal", "low"], [15, 70, 15])[0],
                need_by=need_by,
                approved_on=TODAY - timedelta(days=int(rng.random() ** 1.5 * 300)),
                open_laptops=laptops,
                open_tablets=tablets,
                open_either=either,
            )
        )
    return devices, requests


def _quantity(rng: random.Random) -> int:
    if rng.random() < 0.03:
        return rng.randint(51, 400)
    return min(50, 1 + int(rng.lognormvariate(1.8, 1.0)))


def _split(rng: random.Random, group: str, total: int) -> tuple[int, int, int]:
    if rng.random() < 0.2:
        return 0, 0, total
    tablet_share = {"isolated_elderly": 0.8, "primary_pupils": 0.4, "disability": 0.5}.get(
        group, 0.15
    )
    tablets = (
        sum(rng.random() < tablet_share for _ in range(total))
        if total <= 60
        else int(total * tablet_share)
    )
    return total - tablets, tablets, 0


def rss_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(fn, devices, requests, policy, use_tracemalloc: bool):
    if use_tracemalloc:
        tracemalloc.start()
    started = time.perf_counter()
    solution = fn(devices, requests, policy, TODAY)
    seconds = time.perf_counter() - started
    heap = None
    if use_tracemalloc:
        heap = tracemalloc.get_traced_memory()[1] / 2**20
        tracemalloc.stop()
    return solution, seconds, heap


def report(label: str, solution, seconds: float, heap: float | None) -> None:
    s = solution.stats
    print(
        f"  {label:<12} {seconds:7.2f} s  units {solution.units:>9,}"
        f"  score {solution.total_score:>13,}"
        f"  (prepare {s['seconds_prepare']:.2f} / build {s['seconds_build']:.2f} / flow "
        f"{s['seconds_flow']:.2f} / hand-out {s['seconds_hand_out']:.2f};"
        f" {s['nodes']:,} nodes, {s['arcs']:,} arcs, {s['device_classes']} device classes)"
    )
    print(
        f"  {'':<12} open units {s['open_units']:,}, unmet {s['unmet_units']:,}, unallocated "
        f"devices {s['unallocated_devices']:,}, share {s['share_cap']:,}"
        f" ({s['over_share_organisations']} organisation tiers past their share),"
        f" unserved requests {s['unserved_requests']:,}"
        + (f", Python heap peak {heap:.0f} MB" if heap is not None else "")
    )


def greedy_units(devices, requests, policy) -> int:
    """A plain greedy pass for comparison: requests by priority, each unit takes the best-scoring
    device class it may have (own type first, then "either"), within the organisation cap."""
    counts = Counter((d.kind, d.grade, d.ram_gb, d.storage_gb, d.province) for d in devices)
    samples = {key: DeviceIn(0, *key, 0) for key in counts}
    cap, per_org, units = policy.org_cap(len(devices)), Counter(), 0
    order = sorted(requests, key=lambda r: (-request_priority(r, policy, TODAY), r.id))
    for request in order:
        for slot, wanted in (
            ("laptop", request.open_laptops),
            ("tablet", request.open_tablets),
            ("either", request.open_either),
        ):
            candidates = sorted(
                (
                    key
                    for key, sample in samples.items()
                    if slot in ("either", CATEGORY_OF_KIND[sample.kind])
                    and meets_rules(sample, request.target_group, policy)
                ),
                key=lambda key: -pair_score(samples[key], request, policy, TODAY),
            )
            for key in candidates:
                take = min(wanted, counts[key], cap - per_org[request.organisation_id])
                counts[key] -= take
                per_org[request.organisation_id] += take
                wanted -= take
                units += take
    return units


def tier_counts(solution, requests, policy) -> list[int]:
    tier = {
        r.id: policy.tier_of(r.target_group, r.no_home_schooling, (TODAY - r.approved_on).days)
        for r in requests
    }
    counts = [0] * len(policy.tiers)
    for assignment in solution.assignments:
        counts[tier[assignment.request_id]] += 1
    return counts


def run_case(name: str, n_devices: int, n_requests: int, n_orgs: int, mode: str, args) -> None:
    started = time.perf_counter()
    devices, requests = generate(n_devices, n_requests, n_orgs)
    print(
        f"{name}: {n_devices:,} devices x {n_requests:,} requests from {n_orgs:,} organisations"
        f" (generated in {time.perf_counter() - started:.1f} s, RSS {rss_mb():.0f} MB)"
    )
    policies = [("default", Policy())]
    if mode == "compare":
        policies.append(("tight share", Policy(org_cap_share=0.01)))
        policies.append(("reserve+aging", Policy(tier_reserve=[0.0, 0.0, 0.1], tier_aging_days=60)))
    for policy_name, policy in policies:
        if len(policies) > 1:
            print(f" policy {policy_name} (org_cap_share {policy.org_cap_share}):")
        fast, seconds, heap = timed(solve, devices, requests, policy, args.tracemalloc)
        report("solve", fast, seconds, heap)
        if mode == "compare":
            exact, seconds, heap = timed(solve_exact, devices, requests, policy, args.tracemalloc)
            report("solve_exact", exact, seconds, heap)
            gap = (exact.total_score - fast.total_score) / exact.total_score * 100
            same = tier_counts(fast, requests, policy) == tier_counts(exact, requests, policy)
            print(
                f"  gap: units {exact.units - fast.units}, units per tier equal: {same},"
                f" score {gap:.4f} % (target <= 0.5 %)"
            )
        if mode == "greedy":
            greedy = greedy_units(devices, requests, policy)
            lost = (fast.units - greedy) / fast.units * 100
            print(
                f"  greedy pass by priority: {greedy:,} units, leaving {fast.units - greedy:,}"
                f" meetable units ({lost:.2f} %) unmet that the flow allocates"
            )
    print(f"  peak RSS of this process: {peak_mb():.0f} MB\n")


CASES = {  # name -> (devices, requests, organisations, mode)
    "full": {
        "national": (1_000_000, 100_000, 20_000, "solve"),
        "regional": (100_000, 20_000, 4_000, "solve"),
        "compare": (50_000, 5_000, 1_000, "compare"),
        "balanced": (34_000, 2_000, 400, "greedy"),
    },
    "quick": {
        "national": (100_000, 10_000, 2_000, "solve"),
        "regional": (20_000, 4_000, 800, "solve"),
        "compare": (5_000, 500, 100, "compare"),
        "balanced": (3_400, 200, 40, "greedy"),
    },
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes")
    parser.add_argument("--tracemalloc", action="store_true", help="measure the Python heap")
    parser.add_argument("--case", help=argparse.SUPPRESS)
    args = parser.parse_args()
    cases = CASES["quick" if args.quick else "full"]
    if args.case:
        run_case(args.case, *cases[args.case], args)
        return
    for case in cases:
        command = [sys.executable, __file__, "--case", case]
        command += ["--quick"] * args.quick + ["--tracemalloc"] * args.tracemalloc
        subprocess.run(command, check=True)


if __name__ == "__main__":
    main()
