"""The project's MariaDB and Redis for tests and benchmarks: their settings come from
the environment (``make test`` and ``make bench`` export them), else
``scripts/services.sh`` starts them and says where they listen."""
import os
import subprocess

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def service_env():
    if os.environ.get("LOWCODE_MARIADB_PORT") and os.environ.get("LOWCODE_REDIS_URL"):
        return
    script = os.path.join(ROOT, "scripts", "services.sh")
    subprocess.run(["bash", script, "start"], check=True, stdout=subprocess.DEVNULL)
    out = subprocess.run(["bash", script, "env"], check=True, capture_output=True, text=True).stdout
    for line in out.splitlines():
        if line.startswith("export "):
            key, _, value = line[7:].partition("=")
            os.environ[key] = value.strip("'\"")


def mariadb_root():
    """Root credentials for new-site on the project's MariaDB."""
    service_env()
    return {"db_root_username": os.environ["LOWCODE_MARIADB_ROOT_USER"],
            "db_root_password": os.environ["LOWCODE_MARIADB_ROOT_PASSWORD"],
            "db_host": os.environ.get("LOWCODE_MARIADB_HOST", "127.0.0.1"),
            "db_port": int(os.environ["LOWCODE_MARIADB_PORT"])}


def redis_url():
    service_env()
    return os.environ["LOWCODE_REDIS_URL"]
