"""Timing helpers for the benchmark: percentiles, a latency series, and a counter of
the SQL statements a piece of engine code sends (to tell a slow query from many
queries when a figure misses its target).

Written by hand rather than with a benchmarking library: the figures need the same
connection, transaction and user as the engine code they are compared with, which
generic harnesses (pytest-benchmark, pyperf) do not let us control.
"""
import time


def read_tx(fn, *a, **kw):
    """(fn(*a, **kw), seconds): run fn in a fresh read transaction, as a request would;
    time only fn."""
    from lowcode.context import local
    db = local.db
    db.begin(write=False)
    try:
        t0 = time.perf_counter()
        result = fn(*a, **kw)
        return result, time.perf_counter() - t0
    finally:
        db.commit()


def percentile(values, q):
    """The q-th percentile (0..100) by linear interpolation between closest ranks."""
    if not values:
        return None
    data = sorted(values)
    if len(data) == 1:
        return data[0]
    pos = (len(data) - 1) * q / 100.0
    low = int(pos)
    high = min(low + 1, len(data) - 1)
    return data[low] + (data[high] - data[low]) * (pos - low)


class Series:
    """Latencies of one operation, in milliseconds."""

    def __init__(self, name):
        self.name = name
        self.ms = []

    def add_seconds(self, seconds):
        self.ms.append(seconds * 1000.0)

    def time(self, fn, *args, **kwargs):
        t0 = time.perf_counter()
        result = fn(*args, **kwargs)
        self.add_seconds(time.perf_counter() - t0)
        return result

    @property
    def p50(self):
        return percentile(self.ms, 50)

    @property
    def p95(self):
        return percentile(self.ms, 95)

    @property
    def p99(self):
        return percentile(self.ms, 99)

    def summary(self):
        if not self.ms:
            return {"n": 0}
        return {"n": len(self.ms), "p50_ms": round(self.p50, 3), "p95_ms": round(self.p95, 3),
                "p99_ms": round(self.p99, 3), "min_ms": round(min(self.ms), 3),
                "max_ms": round(max(self.ms), 3), "mean_ms": round(sum(self.ms) / len(self.ms), 3)}


class StatementLog:
    """Record every statement a Database object executes (count and time), by wrapping
    that one instance's ``_execute``; the engine's code is not touched. Use as a
    context manager around the code to inspect."""

    def __init__(self, db, keep_text=False):
        self.db = db
        self.keep_text = keep_text
        self.statements = []   # (first words of the SQL, seconds)
        self.values = []       # the bound values of each statement, with keep_text
        self.starts = []       # time.monotonic() at the start of each statement

    def __enter__(self):
        original = self.db._execute
        log, starts = self.statements, self.starts
        keep = self.keep_text

        def timed(query, values):
            starts.append(time.monotonic())
            t0 = time.perf_counter()
            try:
                return original(query, values)
            finally:
                log.append((query if keep else " ".join(query.split()[:4]), time.perf_counter() - t0))
                if keep:
                    self.values.append(tuple(values or ()))

        self.db._execute = timed
        return self

    def __exit__(self, *exc):
        self.db.__dict__.pop("_execute", None)
        return False

    @property
    def count(self):
        return len(self.statements)

    def seconds_where(self, predicate):
        return sum(s for q, s in self.statements if predicate(q))

    def kinds(self):
        """{statement kind (SELECT/INSERT/UPDATE/...): count}."""
        out = {}
        for q, _ in self.statements:
            kind = q.split(None, 1)[0].upper() if q.strip() else "?"
            out[kind] = out.get(kind, 0) + 1
        return out
