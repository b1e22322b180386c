"""The project's MariaDB, Redis and IMAP server for tests and benchmarks: their settings come from
the environment (``make test`` and ``make bench`` export them), else
``scripts/services.sh`` starts them and says where they listen."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def service_env(*services):
    """Start ``services`` (default MariaDB and Redis) unless the environment names them."""
    wanted = services or ("mariadb", "redis")
    known = {"mariadb": "LOWCODE_MARIADB_PORT", "redis": "LOWCODE_REDIS_URL", "dovecot": "LOWCODE_TEST_IMAP_PORT"}
    if all(os.environ.get(known[s]) for s in wanted):
        return
    script = os.path.join(ROOT, "scripts", "services.sh")
    subprocess.run(["bash", script, "start", *wanted], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(["bash", script, "env"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[7:].partition("=")
            os.environ[key] = value.strip("'\"")


# The test MariaDB's root credentials and Redis URL: one copy, in the engine's pytest plugin
# (which partners' tests use too; it comes back here to start the services).
from lowcode.testing.pytest_plugin import mariadb_root, redis_url  # noqa: E402,F401


def imap_server():
    """The test IMAP server (Dovecot): host, ports (STARTTLS and TLS), the certificate to
    trust, user and password of the test mailbox."""
    service_env("dovecot")
    return {"host": os.environ.get("LOWCODE_TEST_IMAP_HOST", "127.0.0.1"),
            "port": int(os.environ["LOWCODE_TEST_IMAP_PORT"]),
            "tls_port": int(os.environ["LOWCODE_TEST_IMAPS_PORT"]), "ca": os.environ["LOWCODE_TEST_IMAP_CA"],
            "user": os.environ["LOWCODE_TEST_IMAP_USER"], "password": os.environ["LOWCODE_TEST_IMAP_PASSWORD"]}
