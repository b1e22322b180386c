"""The bench: a ``sites/`` folder holding ``apps.txt``, ``common_site_config.json`` and
one folder per site with its ``site_config.json`` and ``files/``, as a Frappe bench."""
import json
import os
import re

from .exceptions import SiteNotFound

SITE_NAME_RE = re.compile(r"^[a-z0-9]([a-z0-9\-.]{0,61}[a-z0-9])?$")
LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "[::1]", "::1")


def bench_path(path=None):
    return os.path.abspath(path or os.environ.get("LOWCODE_SITES") or os.path.join(os.getcwd(), "sites"))


def site_path(site, bench=None):
    return os.path.join(bench_path(bench), site)


def read_json(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def write_json(path, data):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(data, f, indent=1, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def get_site_config(site, bench=None):
    bench = bench_path(bench)
    path = os.path.join(bench, site, "site_config.json")
    if not os.path.exists(path):
        raise SiteNotFound(f"Site {site} does not exist in {bench}")
    conf = read_json(os.path.join(bench, "common_site_config.json"))
    conf.update(read_json(path))
    return conf


def common_config(bench=None):
    return read_json(os.path.join(bench_path(bench), "common_site_config.json"))


def update_common_config(values, bench=None):
    path = os.path.join(bench_path(bench), "common_site_config.json")
    conf = read_json(path)
    conf.update(values)
    write_json(path, conf)


def list_sites(bench=None):
    bench = bench_path(bench)
    if not os.path.isdir(bench):
        return []
    return sorted(d for d in os.listdir(bench) if os.path.exists(os.path.join(bench, d, "site_config.json")))


def default_site(bench=None):
    bench = bench_path(bench)
    site = common_config(bench).get("default_site")
    if not site and os.path.exists(os.path.join(bench, "currentsite.txt")):
        with open(os.path.join(bench, "currentsite.txt")) as f:
            site = f.read().strip()
    return site or None


def resolve_site(host, bench=None):
    """The site a request is for, from its Host header (port ignored); loopback
    addresses fall back to the bench's default site."""
    name = (host or "").strip().lower()
    if name.startswith("["):
        name = name.split("]")[0] + "]"
    else:
        name = name.split(":")[0]
    if name and SITE_NAME_RE.match(name) and os.path.exists(os.path.join(bench_path(bench), name, "site_config.json")):
        return name
    if name in LOOPBACK_HOSTS:
        site = default_site(bench)
        if site:
            return site
    raise SiteNotFound(f"No site is served at {host!r}")


def apps_txt(bench=None):
    path = os.path.join(bench_path(bench), "apps.txt")
    if not os.path.exists(path):
        return ["lowcode"]
    with open(path) as f:
        return [line.strip() for line in f if line.strip() and not line.startswith("#")]


def add_to_apps_txt(app, bench=None):
    """List ``app`` in the bench's apps.txt (as Frappe's ``bench new-app`` does), when the
    bench has one and it is not there yet; returns the file's path if it was added."""
    path = os.path.join(bench_path(bench), "apps.txt")
    if not os.path.exists(path) or app in apps_txt(bench):
        return None
    with open(path, "r+", encoding="utf-8") as f:
        text = f.read()
        f.write(("" if not text or text.endswith("\n") else "\n") + app + "\n")
    return path
