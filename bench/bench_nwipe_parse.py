"""Benchmark refurbish.nwipe.parse_nwipe_log on 1,000 generated nwipe logs of ~50 KB each.

Run from the project root:  .venv/bin/python bench/bench_nwipe_parse.py [--logs N] [--size KB]

The logs follow nwipe's formats (src/logging.c nwipe_log(), nwipe_log_sysinfo(),
nwipe_log_summary(); src/options.c nwipe_options_log(); src/device.c check_device()) and are
padded with the progress lines nwipe writes on SIGUSR1 in --nogui mode (src/nwipe.c
signal_hand(): "/dev/sda: 42.50%, round 1 of 1, pass 1 of 3, eta 00:40:00, [writing]").
Everything is generated in memory before the clock starts; only parsing is timed.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from refurbish.nwipe import parse_nwipe_log  # noqa: E402

METHODS = [("PRNG Stream", 1), ("DoD Short", 3), ("Fill With Zeros", 1), ("DoD 5220.22-M", 7)]
MODELS = [
    ("Samsung SSD 860 EVO 250GB", " ATA-SSD", 250059350016),
    ("ST500LM030-2E717D", " ATA    ", 500107862016),
    ("SAMSUNG MZVLB256HAHQ-000H1", "NVME-SSD", 256060514304),
    ("WDC WD5000LPCX-24VHAT0", " ATA    ", 500107862016),
    ("KINGSTON SA400S37240G", " ATA-SSD", 240057409536),
]
VENDORS = [
    ("LENOVO", "20HRCTO1WW"),
    ("HP", "HP EliteBook 840 G5"),
    ("Dell Inc.", "Latitude 5490"),
    ("To Be Filled By O.E.M.", "To Be Filled By O.E.M."),
]
LEVEL = {"info": "   info: ", "notice": " notice: ", "error": "  error: "}


def _serial(rng: random.Random, length: int = 12) -> str:
    return "".join(rng.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(length))


def _size_text(n: int) -> str:
    for limit, div, unit in ((10**13, 10**12, "TB"), (10**10, 10**9, "GB"), (10**7, 10**6, "MB")):
        if n >= limit:
            return f"{n // div:4d} {unit}"
    return f"{n:4d} B"


def make_log(rng: random.Random, target_bytes: int) -> str:
    clock = datetime(2025, 1, 1) + timedelta(minutes=rng.randrange(500_000))
    lines: list[str] = []

    def log(level: str, message: str) -> None:
        lines.append(clock.strftime("[%Y/%m/%d %H:%M:%S] ") + LEVEL[level] + message)

    method, passes = rng.choice(METHODS)
    drives = []
    for index in range(rng.choice([1, 1, 1, 2, 2, 4])):
        model, bus, size = rng.choice(MODELS)
        name = (
            "/dev/nvme0n1" if bus.startswith("NVME") and index == 0 else f"/dev/sd{'abcd'[index]}"
        )
        drives.append((name, model, bus, size, _serial(rng)))
    vendor, product = rng.choice(VENDORS)

    log("info", "nwipe 0.38")
    for name, model, bus, size, serial in drives:
        log("notice", f"Found {name}, {bus}, {model}, {_size_text(size)}, S/N={serial}")
        log("info", f"{name}, sector(logical)/block(physical) sizes 512/4096")
    log("info", f"Automatically enumerated {len(drives)} devices.")
    system_serial = "To Be Filled By O.E.M." if vendor.startswith("To Be") else _serial(rng, 8)
    for key, value in (
        ("bios-version", "N1QET94W (1.69 )"),
        ("system-manufacturer", vendor),
        ("system-product-name", product),
        ("system-serial-number", system_serial),
        ("chassis-type", "Notebook"),
    ):
        log("info", f"{key} = {value}")
    log("notice", "Program options are set as follows...")
    for option in ("autonuke = 1 (on)", "banner   = nwipe 0.38", f"method   = {method}"):
        log("notice", "  " + option)
    log("notice", "  rounds   = 1")
    log("notice", "  verify   = 1 (last pass)")
    for name, *_ in drives:
        log("notice", f"Invoking method '{method}' on {name}")
        log("notice", f"Starting pass 1/{passes}, round 1/1, on {name}")

    # Pad with SIGUSR1 progress lines up to the target size.
    percent = 0.0
    size_so_far = sum(len(line) + 1 for line in lines)
    while size_so_far < target_bytes - 2500:
        clock += timedelta(seconds=2)
        percent = min(percent + rng.random() / 4, 100.0)
        for name, *_ in drives:
            line = (
                clock.strftime("[%Y/%m/%d %H:%M:%S] ")
                + LEVEL["info"]
                + f"{name}: {percent:05.2f}%, round 1 of 1, pass 1 of {passes}, "
                f"eta 00:{rng.randrange(60):02d}:{rng.randrange(60):02d}, [writing]"
            )
            lines.append(line)
            size_so_far += len(line) + 1

    statuses = [rng.choice([" Erased "] * 8 + ["-FAILED-", "UABORTED"]) for _ in drives]
    lines += [
        "",
        "******************************** Error Summary *********************************",
        "!   Device | Pass Errors | Verifications Errors | Fdatasync I\\O Errors",
        "-" * 80,
    ]
    for (name, *_), status in zip(drives, statuses, strict=True):
        errors = 1 if status == "-FAILED-" else 0
        flag = "!" if errors else " "
        short = name.rsplit("/", 1)[-1].rjust(8)
        lines.append(f"{flag} {short} |  {errors:10d} |           {0:10d} |           {0:10d}")
    lines += ["*" * 80, "", "*" * 33 + " Drive Status " + "*" * 33]
    lines += ["!   Device | Status | Thru-put | HH:MM:SS | Model/Serial Number", "-" * 80]
    for (name, model, _bus, _size, serial), status in zip(drives, statuses, strict=True):
        flag = "!" if status != " Erased " else " "
        short = name.rsplit("/", 1)[-1].rjust(8)
        lines.append(f"{flag} {short} |{status}|  140 MB/s | 01:02:03 | {model[:17]}/{serial}")
    lines += [
        "-" * 80,
        clock.strftime("[%Y/%m/%d %H:%M:%S]") + f" Total Throughput  140 MB/s, {method}, 1R+B+VL",
        "*" * 80,
        "",
    ]
    if "UABORTED" in statuses:
        log("info", "Nwipe was aborted by the user. Check the summary table for the drive status.")
    elif "-FAILED-" in statuses:
        log("info", "Nwipe exited with errors, check the log & summary table for drive status.")
    else:
        log("info", "Nwipe successfully completed. See summary table for details.")
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--logs", type=int, default=1000)
    parser.add_argument("--size", type=int, default=50, help="approximate KB per log")
    parser.add_argument("--seed", type=int, default=2025)
    args = parser.parse_args()

    rng = random.Random(args.seed)
    logs = [make_log(rng, args.size * 1024) for _ in range(args.logs)]
    total_bytes = sum(len(text) for text in logs)

    start = time.perf_counter()
    results = [parse_nwipe_log(text) for text in logs]
    elapsed = time.perf_counter() - start

    erased = sum(1 for log in results if log.all_erased)
    drives = sum(len(log.drives) for log in results)
    print(
        f"parsed {len(logs)} logs ({total_bytes / 1e6:.1f} MB, "
        f"avg {total_bytes / len(logs) / 1024:.1f} KB, {drives} drives, {erased} all erased) "
        f"in {elapsed:.3f} s = {elapsed / len(logs) * 1000:.2f} ms/log, "
        f"{total_bytes / 1e6 / elapsed:.0f} MB/s"
    )


if __name__ == "__main__":
    main()
