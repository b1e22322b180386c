"""`lowcode setup production`: the systemd units and nginx site it writes are checked by the
tools that will read them (systemd-analyze verify when the machine has it, else parsed;
`nginx -t` against a throw-away prefix in tmp, never the system's nginx). Nothing is
installed or started."""
import configparser
import getpass
import gzip
import http.client
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from lowcode import sites
from lowcode.desk import assets
from tests.server import _die_with_parent, free_port

LOWCODE = os.path.join(os.path.dirname(sys.executable), "lowcode")
NGINX = shutil.which("nginx", path=os.environ.get("PATH", "") + ":/usr/sbin:/sbin")
SERVICES = ("lowcode-web.service", "lowcode-worker@.service", "lowcode-scheduler.service",
            "lowcode-realtime.service")


@pytest.fixture
def written(tmp_path):
    bench = tmp_path / "bench"
    (bench / "crm.example.com").mkdir(parents=True)
    sites.write_json(str(bench / "crm.example.com" / "site_config.json"),
                     {"db_type": "mariadb", "redis_cache": "redis://127.0.0.1:6379/0", "max_file_size": 50 * 2**20})
    sites.write_json(str(bench / "common_site_config.json"), {"socketio_port": 9123})
    out = tmp_path / "production"
    result = subprocess.run([sys.executable, "-m", "lowcode", "--sites-path", str(bench), "setup", "production",
                             "--output", str(out), "--workers", "3", "--web-processes", "4", "--port", "8100",
                             "--user", getpass.getuser()],
                            capture_output=True, text=True, timeout=60, env=dict(os.environ, LOWCODE_DEBUG="1"))
    assert result.returncode == 0, result.stderr
    assert sorted(os.listdir(out)) == sorted(SERVICES + ("lowcode.target", "lowcode.conf"))
    return bench, out


def unit(path):
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str
    parser.read(path)
    return parser


def test_units_run_the_venvs_lowcode_and_restart_on_failure(written):
    bench, out = written
    for name in SERVICES:
        service = unit(out / name)
        assert service["Service"]["Restart"] == "on-failure", name
        assert service["Service"]["ExecStart"].startswith(f"{LOWCODE} --sites-path {bench} "), name
        assert service["Unit"]["PartOf"] == "lowcode.target"
        assert service["Install"]["WantedBy"] == "lowcode.target"
    assert unit(out / "lowcode-web.service")["Service"]["ExecStart"].endswith(
        "serve --host 127.0.0.1 --port 8100 --workers 4 --no-realtime")
    assert unit(out / "lowcode-realtime.service")["Service"]["ExecStart"].endswith("--port 9123")
    wants = unit(out / "lowcode.target")["Unit"]["Wants"].split()
    assert [w for w in wants if w.startswith("lowcode-worker@")] == [f"lowcode-worker@{n}.service" for n in (1, 2, 3)]
    assert {"lowcode-web.service", "lowcode-scheduler.service", "lowcode-realtime.service"} <= set(wants)


def test_systemd_analyze_verifies_the_units(written, tmp_path):
    _, out = written
    # A template is verified through an instance of it, as systemd loads it.
    shutil.copy(out / "lowcode-worker@.service", tmp_path / "lowcode-worker@1.service")
    paths = [str(out / name) for name in SERVICES + ("lowcode.target",)] + [str(tmp_path / "lowcode-worker@1.service")]
    result = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    broken = tmp_path / "broken.service"
    broken.write_text("[Service]\nExecStart=lowcode serve\n")  # not an absolute path: the check can fail
    assert subprocess.run(["systemd-analyze", "verify", str(broken)], capture_output=True, timeout=60).returncode


def nginx_test(tmp_path, site):
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True, exist_ok=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\nevents {{}}\n"
                    f"http {{\n  include /etc/nginx/mime.types;\n  include {site};\n}}\n")
    return subprocess.run([NGINX, "-t", "-q", "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs/error.log")],
                          capture_output=True, text=True, timeout=60)


def test_nginx_accepts_the_site(written, tmp_path):
    assert NGINX, "nginx is a test package of the Makefile (SERVICE_PKGS)"
    _, out = written
    site = (out / "lowcode.conf").read_text()
    result = nginx_test(tmp_path, out / "lowcode.conf")
    assert result.returncode == 0, result.stderr
    assert "server_name crm.example.com;" in site
    assert "client_max_body_size 51m;" in site  # the site's 50 MB uploads and the form around them
    assert "gzip on;" in site and "application/javascript" in site
    socket_io = site.split("location /socket.io {", 1)[1].split("}", 1)[0]
    assert "proxy_pass http://lowcode_realtime;" in socket_io and "proxy_set_header Upgrade $http_upgrade;" in socket_io
    assert "server 127.0.0.1:9123;" in site and "server 127.0.0.1:8100;" in site
    assert 'add_header Cache-Control "public, max-age=31536000, immutable";' in site
    assert "X-Forwarded-Proto $scheme" in site and "proxy_read_timeout" in site

    broken = tmp_path / "broken.conf"
    broken.write_text(site.replace("gzip on;", "gzip maybe;"))
    assert nginx_test(tmp_path, broken).returncode != 0  # the check can fail


def test_nginx_serves_the_assets_from_disk_cached_and_compressed(written, tmp_path):
    """The site run for real by a throw-away nginx on a free loopback port (its own prefix
    in tmp): the desk's and the vendor's assets come from disk, gzipped, cached a year."""
    assert NGINX
    _, out = written
    port = free_port()
    site = (out / "lowcode.conf").read_text().replace("listen [::]:80;", "").replace("listen 80;", f"listen 127.0.0.1:{port};")
    (tmp_path / "site.conf").write_text(site)
    prefix = tmp_path / "nginx"
    (prefix / "logs").mkdir(parents=True)
    conf = prefix / "nginx.conf"
    conf.write_text(f"pid {prefix}/nginx.pid;\nerror_log {prefix}/logs/error.log;\ndaemon off;\nevents {{}}\n"
                    f"http {{\n  include /etc/nginx/mime.types;\n  access_log off;\n  include {tmp_path}/site.conf;\n}}\n")
    proc = subprocess.Popen([NGINX, "-p", str(prefix), "-c", str(conf), "-e", str(prefix / "logs/error.log")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True,
                            preexec_fn=_die_with_parent)
    try:
        def get(path):
            deadline = time.monotonic() + 15
            while True:
                try:
                    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                    connection.request("GET", path, headers={"Accept-Encoding": "gzip", "Host": "crm.example.com"})
                    response = connection.getresponse()
                    return response, response.read()
                except ConnectionRefusedError:
                    if time.monotonic() > deadline or proc.poll() is not None:
                        raise
                    time.sleep(0.1)

        for name, on_disk in (("desk.js", os.path.join(assets.STATIC, "desk.js")),
                              ("bootstrap.css", os.path.join(assets.NODE_MODULES, assets.VENDOR["bootstrap.css"]))):
            response, body = get(f"/assets/0123456789/{name}")
            assert response.status == 200, (name, response.status)
            assert response.getheader("Cache-Control") == "public, max-age=31536000, immutable"
            assert response.getheader("Content-Encoding") == "gzip"
            with open(on_disk, "rb") as f:
                assert gzip.decompress(body) == f.read()
        assert get("/assets/0123456789/../../../../etc/passwd")[0].status in (400, 404)
        assert get("/assets/0123456789/no-such-file.js")[0].status == 404
    finally:
        proc.send_signal(signal.SIGQUIT)  # nginx's graceful stop
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)


def test_a_bench_path_with_spaces_and_percent_signs_survives_systemds_parsing(tmp_path):
    from lowcode import production
    bench = tmp_path / "my bench 100%"
    (bench / "s.localhost").mkdir(parents=True)
    sites.write_json(str(bench / "s.localhost" / "site_config.json"), {"db_type": "sqlite"})
    out = tmp_path / "units"
    production.generate(str(bench), str(out), user=getpass.getuser())
    paths = [str(out / name) for name in SERVICES if "@" not in name]
    result = subprocess.run(["systemd-analyze", "verify", *paths], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and not result.stderr.strip(), result.stderr
    web = unit(out / "lowcode-web.service")["Service"]
    assert f'Environment="LOWCODE_SITES={str(bench).replace("%", "%%")}"\n' in (out / "lowcode-web.service").read_text()
    assert f'--sites-path "{str(bench).replace("%", "%%")}" serve' in web["ExecStart"]
