"""The operations middleware: sits just outside SiteMiddleware (web/settings.py).

- ``/api/method/ping`` answers "pong" here, before any site, database or session: load
  balancers call it every second and it must cost nothing.
- ``/api/method/lowcode.health`` and ``/metrics`` are answered here too, because they must
  answer when the site's database is down (which SiteMiddleware needs).
- Every other request gets a request id (a valid ``X-Request-ID`` or a new one, sent
  back in the response), is timed into the route's histogram and logged as one JSON
  line. Its site and user are read in ``process_view``, which Django calls inside the
  site's context."""
import ipaddress
import logging
import time

from django.http import HttpResponse, JsonResponse

from . import logs, metrics

log = logging.getLogger("lowcode.request")
PING_PATHS = ("/api/method/ping", "/api/method/ping/")
HEALTH_PATHS = ("/api/method/lowcode.health", "/api/method/lowcode.health/")
METRICS_PATHS = ("/metrics", "/metrics/")
READ_METHODS = ("GET", "HEAD")
FORWARDED_HEADERS = ("X-Forwarded-For", "Forwarded", "X-Real-IP")


class ObservabilityMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        rid = logs.valid_request_id(request.headers.get("X-Request-ID")) or logs.new_request_id()
        token = logs.request_id.set(rid)
        try:
            path = request.path
            if path in PING_PATHS and request.method in ("GET", "HEAD", "POST"):
                request.lowcode_route = "/api/method/ping"
                response = JsonResponse({"message": "pong"})
            elif path in HEALTH_PATHS and request.method in READ_METHODS:
                request.lowcode_route = "/api/method/lowcode.health"
                response = health_view(request)
            elif path in METRICS_PATHS and request.method in READ_METHODS:
                request.lowcode_route = "/metrics"
                response = metrics_view(request)
            else:
                response = self.get_response(request)
            response["X-Request-ID"] = rid
            self._record(request, response.status_code, time.perf_counter() - started)
            return response
        finally:
            logs.request_id.reset(token)

    def process_view(self, request, view_func, view_args, view_kwargs):
        from ..context import get_state
        state = get_state()
        if state is not None:
            request.lowcode_seen = (state.site, state.user)
        return None

    @staticmethod
    def _record(request, status, seconds):
        route = getattr(request, "lowcode_route", None) or metrics.request_route(request)
        try:
            metrics.observe_request(request.method, route, status, seconds)
        except Exception:  # noqa: BLE001 - metrics never fail a request
            log.exception("could not record the request's metrics")
        site, user = getattr(request, "lowcode_seen", (None, None))
        # The route, never the path: paths hold names and query strings hold keys
        # (password reset links, API secrets in old clients), none of which are logged.
        log.info("request", extra={"method": request.method, "route": route, "status": status,
                                   "duration_ms": round(seconds * 1000, 2), "site": site, "user": user})


def _site_for(request):
    """(site, bench) for the request's Host, or (None, bench)."""
    from ..sites import bench_path, resolve_site
    bench = bench_path()
    try:
        return resolve_site(request.get_host(), bench), bench
    except Exception:  # noqa: BLE001 - SiteNotFound, DisallowedHost: no site
        return None, bench


def health_view(request):
    import lowcode
    from . import health
    site, bench = _site_for(request)
    if site is None:
        return JsonResponse({"exc_type": "DoesNotExistError", "message": "No site is served at this host"},
                            status=404)
    request.lowcode_seen = (site, None)
    token = lowcode.init(site, bench)
    try:
        checks = health.check_site(site, bench)
        failed = [name for name, result in checks.items() if not result["ok"]]
        body = {"status": "error" if failed else "ok"}
        if _may_see_details(request, checks):
            body.update(failed=failed, checks=checks)
    finally:
        lowcode.destroy(token)
    response = JsonResponse(body, status=503 if failed else 200)
    response["Cache-Control"] = "no-store"
    return response


def _may_see_details(request, checks):
    """The health token, or a System Manager's session or API token (which needs the
    database: when it is down, only the token shows what failed)."""
    from ..context import local
    from . import health
    if health.bearer_matches(local.conf, "health_token", request.headers.get("Authorization")):
        return True
    if not checks["database"]["ok"]:
        return False
    if not request.headers.get("Authorization") and not request.COOKIES.get("sid"):
        return False  # a load balancer's call: a guest, known without a query
    import lowcode
    from ..exceptions import LowcodeError
    from ..meta import check_version
    from ..permissions import get_roles
    from ..web.middleware import SiteMiddleware
    db = lowcode.connect()
    try:
        db.set_read_only(True)  # a GET that never writes, enforced by the database
        db.begin(write=False)
        check_version()  # memoised roles of an older permissions version are dropped
        SiteMiddleware(None).authenticate(request)  # the one way a request is authenticated
        return "System Manager" in get_roles()
    except LowcodeError:  # a wrong token: no details, not an error
        return False
    finally:
        db.rollback()
        db.close()
        local.db = None


def metrics_view(request):
    from ..sites import common_config
    from . import health
    site, bench = _site_for(request)
    conf = common_config(bench)
    if site is not None:
        from ..sites import get_site_config
        conf = get_site_config(site, bench)
    if not (_address_allowed(request, conf)
            or health.bearer_matches(conf, "metrics_token", request.headers.get("Authorization"))):
        return JsonResponse({"exc_type": "PermissionError",
                             "message": "Metrics are served to this host's loopback, the addresses in "
                                        "metrics_allowed_addresses, or with the metrics_token"}, status=403)
    return HttpResponse(metrics.exposition(bench), content_type=metrics.CONTENT_TYPE)


def _address_allowed(request, conf):
    """Loopback or an address/network in ``metrics_allowed_addresses``, for a request
    that came straight to the server: through a proxy on this host every client would
    look like loopback."""
    if any(h in request.headers for h in FORWARDED_HEADERS):
        return False
    try:
        address = ipaddress.ip_address(request.META.get("REMOTE_ADDR") or "")
    except ValueError:
        return False
    if address.is_loopback:
        return True
    for allowed in conf.get("metrics_allowed_addresses") or []:
        try:
            if address in ipaddress.ip_network(str(allowed), strict=False):
                return True
        except ValueError:
            continue
    return False
