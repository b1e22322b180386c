"""``lowcode setup production``: systemd units and an nginx site for a Debian host, rendered
from the Jinja2 templates in ``templates/`` (kept as files so an admin can read what is
written). Files only: nothing here starts, enables or reloads a service.

Units: ``lowcode-web`` (uvicorn's N workers on one port), ``lowcode-worker@<n>`` (one RQ
worker per instance), ``lowcode-scheduler``, ``lowcode-realtime`` and ``lowcode.target``
grouping them (``systemctl enable --now lowcode.target``). The nginx site serves
``/assets/`` from disk with a year's caching (content-hashed URLs, desk/assets.py), proxies
``/socket.io`` to the realtime port as a WebSocket and everything else to the web port.
Uploaded files (``/files/``) stay with the application: it decides inline vs download and
``nosniff`` (api/files.serve), which a plain nginx location would not.
"""
import getpass
import os
import sys

from . import sites
from .exceptions import CommandError

TEMPLATES = os.path.join(os.path.dirname(__file__), "templates")
SYSTEMD_DIR = "/etc/systemd/system"
NGINX_DIR = "/etc/nginx/conf.d"
UNITS = ("lowcode-web.service", "lowcode-worker@.service", "lowcode-scheduler.service",
         "lowcode-realtime.service", "lowcode.target")


def render(name, **context):
    import jinja2
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(TEMPLATES), trim_blocks=True, lstrip_blocks=True,
                             keep_trailing_newline=True, undefined=jinja2.StrictUndefined)
    return env.get_template(name).render(**context)


def lowcode_executable():
    """The venv's ``lowcode`` script beside this interpreter (what `make install` made)."""
    beside = os.path.join(os.path.dirname(sys.executable), "lowcode")
    return [beside] if os.path.exists(beside) else [sys.executable, "-m", "lowcode"]


def asset_locations(bench=None):
    """(URL regex, root, try_files path) for nginx, as desk/assets._path finds them: the
    vendor files from node_modules one by one, each app's public/ under its name, then the
    desk's static/ (nginx takes the first regex that matches, so in that order)."""
    from .desk import assets
    found = [(f"^/assets/[0-9a-f]+/{name.replace('.', '[.]')}$", assets.NODE_MODULES, "/" + path)
             for name, path in assets.VENDOR.items()]
    for app in sites.apps_txt(bench):
        public = assets._app_public(app, bench)
        if public and os.path.isdir(public):
            found.append((f"^/assets/[0-9a-f]+/{app}/(.+)$", public, "/$1"))
    found.append(("^/assets/[0-9a-f]+/(.+)$", assets.STATIC, "/$1"))
    return found


def max_body_megabytes(bench):
    """client_max_body_size: the largest request any site accepts (its max_request_size,
    or an upload of max_file_size plus the form's overhead, as web/middleware.py allows)."""
    from .api.files import MAX_FILE_SIZE
    from .web.settings import MAX_REQUEST_SIZE
    largest = MAX_REQUEST_SIZE
    for site in sites.list_sites(bench) or [None]:
        conf = sites.get_site_config(site, bench) if site else sites.common_config(bench)
        largest = max(largest, int(conf.get("max_request_size") or MAX_REQUEST_SIZE),
                      int(conf.get("max_file_size") or MAX_FILE_SIZE) + 1024 * 1024)
    return -(-largest // (1024 * 1024))


def systemd_exec(*argv):
    """An ExecStart= command line: each word double-quoted where needed, ``%`` doubled
    (systemd expands %-specifiers and $VARIABLES in it)."""
    def word(w):
        w = str(w).replace("%", "%%").replace("$", "$$")
        if w and not any(c in w for c in ' \t"\'\\;'):
            return w
        return '"' + w.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return " ".join(word(w) for w in argv)


def generate(bench, units_dir, nginx_dir=None, user=None, web_processes=2, workers=2, server_name=None,
             host="127.0.0.1", port=8000, realtime_port=None):
    """Write the units into ``units_dir`` and the nginx site (lowcode.conf) into
    ``nginx_dir`` (default: the same folder); returns the paths written."""
    from .realtime.server import socketio_port
    bench = sites.bench_path(bench)
    names = server_name.split() if server_name else sites.list_sites(bench)
    lowcode = lowcode_executable()

    def command(*args):
        return systemd_exec(*lowcode, "--sites-path", bench, *args)

    context = {
        "user": user or getpass.getuser(), "bench": bench, "host": host,
        # systemd expands %-specifiers in these too; an Environment= assignment is quoted as one word.
        "directory": os.path.dirname(bench).replace("%", "%%"), "sites_env": systemd_exec(f"LOWCODE_SITES={bench}"),
        "port": port, "web_processes": web_processes, "workers": workers,
        "realtime_port": realtime_port or socketio_port(bench), "server_names": " ".join(names) or "_",
        "assets": asset_locations(bench), "max_body_mb": max_body_megabytes(bench), "command": command,
    }
    written = []
    for name in UNITS + ("lowcode.conf",):
        folder = (nginx_dir or units_dir) if name == "lowcode.conf" else units_dir
        os.makedirs(folder, exist_ok=True)
        target = os.path.join(folder, name)
        with open(target, "w", encoding="utf-8") as f:
            f.write(render(("nginx.conf" if name == "lowcode.conf" else name) + ".jinja", **context))
        written.append(target)
    return written


def install(bench, **options):
    """Write straight into /etc (root only): units to /etc/systemd/system, the site to
    /etc/nginx/conf.d. The admin then runs systemctl daemon-reload / enable, nginx -t."""
    if os.geteuid() != 0:
        raise CommandError("--install writes into /etc: run it as root (or use --output DIR)")
    return generate(bench, SYSTEMD_DIR, NGINX_DIR, **options)
