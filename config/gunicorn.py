"""gunicorn's settings for the web process: `gunicorn -c config/gunicorn.py config.wsgi`
(docker-compose.yml, the Dockerfile, the Procfile and bench/bench_load.py all start it so).

Threaded workers (gthread): while one request waits for PostgreSQL or Redis, another thread of
the same process runs, and a slow page holds one thread, not a whole process, so the users
behind it are not queued after it. Measured with bench/bench_load.py (README, "Serving"): on
two busy cores gthread (4 processes x 4 threads) served the saturated page mix at 1.0-1.3x the
rate of 2 sync workers (median 1.14x), the median wait 2.5x shorter and p95 a little longer.
The pages are mostly CPU (template rendering), so beyond that only more cores or cheaper pages
add throughput. Each thread keeps its own database connection (CONN_MAX_AGE): PostgreSQL must
allow `workers x threads` connections per web container, plus the Celery workers'.

Every setting can be changed without editing this file:
  WEB_CONCURRENCY    processes (default: 2 per core, at most 8)
  GUNICORN_THREADS   threads per process (default 4)
  GUNICORN_WORKER_CLASS  `gthread` (default) or `sync` (then one request per process)
  GUNICORN_BIND      address (default 0.0.0.0:8000; `--bind` on the command line wins)
  GUNICORN_ACCESS_LOG  `-` (stdout, the default) or empty for none
  GUNICORN_KEEPALIVE  seconds a connection stays open between requests (default 5)
"""

import os


def _int(name: str, default: int) -> int:
    return int(os.environ.get(name) or default)


bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")  # noqa: S104 - inside a container
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "gthread")
workers = _int("WEB_CONCURRENCY", min(2 * (os.cpu_count() or 1), 8))
threads = _int("GUNICORN_THREADS", 4)
# A request longer than this is killed (its worker restarted); big jobs run in Celery.
timeout = 60
# On SIGTERM: finish the requests in flight (compose's stop_grace_period is longer).
graceful_timeout = 30
# Caddy keeps its connections to gunicorn open between requests. A kept connection stays with
# one process: with few clients that never pause (bench_load's saturation), some processes
# get more of the heavy pages than others; 0 spreads them, at a connection per request.
keepalive = _int("GUNICORN_KEEPALIVE", 5)
# Restart each process after a few thousand requests (spread out), so a slow leak never grows.
max_requests = 10000
max_requests_jitter = 1000
accesslog = os.environ.get("GUNICORN_ACCESS_LOG", "-") or None
# No control socket (gunicornc): several gunicorns on one host would share its default path.
control_socket_disable = True


# The young generation is collected after this many new objects, not Python's 700: a page makes
# tens of thousands (querysets, model instances, template contexts), so at 700 it ran dozens of
# collections a page. In-process A/B over the bench_load page mix (median of 16 interleaved
# blocks): 4.5% less CPU for ~6 MB more per process; 100,000 saved 2% more for 25 MB more.
GC_THRESHOLD = (20_000, 50, 100)


def post_worker_init(worker):
    """Once a process has loaded the application, its objects (modules, models, URL patterns,
    some 190,000) leave the garbage collector's generations: a full collection no longer scans
    them again. Measured on the bench_load page mix: collections 4.7% -> 2.2% of the CPU. The
    young generation is then collected less often (GC_THRESHOLD)."""
    import gc

    gc.freeze()
    gc.set_threshold(*GC_THRESHOLD)
