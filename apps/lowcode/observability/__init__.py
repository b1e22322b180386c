"""Operations: what load balancers, monitoring and log shippers read.

- ``middleware.py``: one Django middleware, just outside the site's transaction: answers
  ``/api/method/ping``, ``/api/method/lowcode.health`` and ``/metrics`` without the site's
  database or session lookup, and times and logs every other request;
- ``health.py``: the health checks (database, Redis, RQ workers and queues);
- ``metrics.py``: Prometheus metrics through prometheus_client (multiprocess mode when
  ``PROMETHEUS_MULTIPROC_DIR`` is set, as ``lowcode serve`` does);
- ``logs.py``: JSON log lines and the request id, carried into the jobs a request enqueues.

See docs/OBSERVABILITY.md."""
