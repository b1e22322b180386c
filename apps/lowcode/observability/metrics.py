"""Prometheus metrics through prometheus_client.

Requests: latency histogram and counts by route (the URL pattern or the method name,
never the raw path: names in paths would make a series per document) and status
class. Jobs: duration by method, failures by method. Queues (read from Redis at scrape
time): length, age of the oldest queued job, failed jobs, live workers.

Several web processes and RQ work horses on one host share ``PROMETHEUS_MULTIPROC_DIR``
(prometheus_client's multiprocess mode, set and emptied by ``lowcode serve`` through
``prepare_multiprocess_dir``), so a scrape of any process sums them all."""
import functools
import os
import re
import threading

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
WORKER_ID_ENV = "LOWCODE_METRICS_PROCESS"


def prepare_multiprocess_dir(bench):
    """Before the web processes and workers start: the metrics directory, named in the
    environment the children inherit, emptied of an earlier run's files (they would be
    summed into this one's). A directory already named in the environment belongs to a
    parent (``lowcode start``) that emptied it before starting its children: kept."""
    import glob
    path = os.environ.get(MULTIPROC_ENV)
    if not path:
        path = os.path.join(bench, ".metrics")
        for stale in glob.glob(os.path.join(path, "*.db")):
            os.remove(stale)
    os.makedirs(path, exist_ok=True)
    os.environ[MULTIPROC_ENV] = path
    import prometheus_client.values as values
    values.ValueClass = _value_class()  # in case prometheus_client was imported before the variable was set
    return path


def _value_class():
    """prometheus_client's value class. An RQ worker forks a work horse per job; by pid,
    every horse would leave its own files (thousands a day, each read by every scrape).
    ``lowcode worker`` names its horses after itself instead (one horse at a time per
    worker, so one writer per file), see ``name_worker_process``."""
    import prometheus_client.values as values
    if not os.environ.get(MULTIPROC_ENV):
        return values.MutexValue
    return values.MultiProcessValue(process_identifier=lambda: os.environ.get(WORKER_ID_ENV) or os.getpid())


def name_worker_process():
    """Called by ``lowcode worker`` before it forks work horses."""
    os.environ[WORKER_ID_ENV] = f"worker-{os.getpid()}"
    import prometheus_client.values as values
    values.ValueClass = _value_class()


def _metrics():
    import prometheus_client as pc
    import prometheus_client.values as values
    values.ValueClass = _value_class()
    latency = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
    return {
        "request_seconds": pc.Histogram("lowcode_http_request_duration_seconds", "Request latency by route",
                                        ("method", "route"), buckets=latency),
        "requests": pc.Counter("lowcode_http_requests", "Requests by route and status class",
                               ("method", "route", "status")),
        "job_seconds": pc.Histogram("lowcode_job_duration_seconds", "Background job duration by method",
                                    ("method", "queue"), buckets=latency + (30, 60, 300, 1500)),
        "jobs_failed": pc.Counter("lowcode_jobs_failed", "Background jobs that failed, by method",
                                  ("method", "queue")),
    }


_made = None
_lock = threading.Lock()


def metrics():
    """The metric objects, made on first use (after the serve command set the
    multiprocess directory); once per process, though two threads may ask at once
    (prometheus_client refuses a metric registered twice)."""
    global _made
    if _made is None:
        with _lock:
            if _made is None:
                _made = _metrics()
    return _made


def observe_request(method, route, status, seconds):
    m = metrics()
    method = method if method in _METHODS else "other"  # the verb is the client's text too
    m["request_seconds"].labels(method, route).observe(seconds)
    m["requests"].labels(method, route, f"{status // 100}xx").inc()


_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}


def observe_job(payload, seconds):
    metrics()["job_seconds"].labels(payload.get("method") or "", payload.get("queue") or "").observe(seconds)


def job_failed(payload):
    metrics()["jobs_failed"].labels(payload.get("method") or "", payload.get("queue") or "").inc()


# -- routes ---------------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1024)
def route_label(pattern):
    """``^api/resource/(?P<doctype>[^/]+)/(?P<name>.+?)/?$`` -> ``/api/resource/<doctype>/<name>``.
    Patterns come from the URL configuration, so the labels are few."""
    text = re.sub(r"\(\?P<(\w+)>(?:[^()]|\([^()]*\))*\)", r"<\1>", pattern)
    text = re.sub(r"<(?:\w+:)?(\w+)>", r"<\1>", text)  # path() converters: <str:doctype>
    for token in ("^", "$", "/?", "(?:", ")?", "\\"):
        text = text.replace(token, "")
    return "/" + text.lstrip("/")


def request_route(request):
    """The request's route label: the matched URL pattern, with the method's name for
    a method call that resolved (``/api/method/frappe.client.get_list``), else the
    pattern alone; ``<unmatched>`` for a path no route took."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        return "<unmatched>"
    route = route_label(match.route or match.view_name or "")
    method = getattr(request, "lowcode_method", None)  # set by api.method.run once resolved
    if method:
        route = route.replace("<dotted>", method)
    return route


# -- scrape --------------------------------------------------------------------------------------

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def exposition(bench):
    """The text a scrape gets: this host's processes (summed over the multiprocess
    directory when there is one) and the queues of the bench's Redis servers."""
    import prometheus_client as pc
    from prometheus_client import multiprocess
    if os.environ.get(MULTIPROC_ENV):
        registry = pc.CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = pc.REGISTRY
    queues = pc.CollectorRegistry()
    queues.register(QueueCollector(bench))
    return pc.generate_latest(registry) + pc.generate_latest(queues)


class QueueCollector:
    """Read at scrape time from each Redis the bench's sites name: nothing to keep in
    step between processes, and the figures are the queues' own."""

    def __init__(self, bench):
        self.bench = bench

    def collect(self):
        from prometheus_client.core import GaugeMetricFamily
        from . import health
        length = GaugeMetricFamily("lowcode_queue_length", "Jobs waiting in the queue", labels=["queue"])
        age = GaugeMetricFamily("lowcode_queue_oldest_job_age_seconds", "Age of the oldest queued job",
                                labels=["queue"])
        failed = GaugeMetricFamily("lowcode_queue_failed_jobs", "Jobs in the queue's failed registry",
                                   labels=["queue"])
        workers = GaugeMetricFamily("lowcode_workers_alive", "RQ workers with a recent heartbeat")
        up = GaugeMetricFamily("lowcode_redis_up", "Whether each Redis the sites use answered the scrape")
        totals, alive, reachable = {}, 0, 1
        for url in health.bench_redis_urls(self.bench):
            try:
                stats = health.queue_stats(url)
                alive += health.live_workers(url)
            except Exception:  # noqa: BLE001 - a Redis down is a figure here, not a failed scrape
                reachable = 0
                continue
            for name, s in stats.items():
                t = totals.setdefault(name, {"length": 0, "oldest_age_seconds": 0.0, "failed": 0})
                t["length"] += s["length"]
                t["failed"] += s["failed"]
                t["oldest_age_seconds"] = max(t["oldest_age_seconds"], s["oldest_age_seconds"] or 0.0)
        for name, t in sorted(totals.items()):
            length.add_metric([name], t["length"])
            age.add_metric([name], t["oldest_age_seconds"])
            failed.add_metric([name], t["failed"])
        workers.add_metric([], alive)
        up.add_metric([], reachable)
        return [length, age, failed, workers, up]
