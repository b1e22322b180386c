"""Backups and restores of a site: SQLite through its online backup API, MariaDB
through mariadb-dump/mariadb (password in the environment, never on a command line);
files as a tar.gz. Every file is written under a temporary name first, so a failed
backup never looks complete; a restore refuses a file that is not a lowcode backup
before touching anything."""
import contextlib
import datetime
import gzip
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import zlib

from . import sites
from .exceptions import CommandError


def _one_line(text):
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check_backup_name(conf, path):
    suffix = ".sqlite3.gz" if _db_type(conf) == "sqlite" else ".sql.gz"
    if not path.endswith(suffix):
        raise CommandError(f"{path} is not a backup of a {_db_type(conf)} site (expected *{suffix})")


def restore_backup(bench, site, path):
    """Replace the site's database with the backup at ``path``, then migrate."""
    from .caches import META_VERSION_KEY, cache, get_meta_version
    from .installer import migrate as run_migrate
    conf = sites.get_site_config(site, bench.path)
    check_backup_name(conf, path)
    with bench.context(site):
        version_before = get_meta_version()
    if _db_type(conf) == "sqlite":
        _restore_sqlite(conf, sites.site_path(site, bench.path), path)
    else:
        _restore_mariadb(conf, sites.site_path(site, bench.path), path)
    with bench.context(site) as local:
        # The restored metadata version may be one another process already cached different
        # definitions under; move past every version either database has seen.
        local.db.set_series_value(META_VERSION_KEY, max(version_before, get_meta_version()) + 1)
        run_migrate()
        local.db.commit()
        cache().delete_prefix("")  # cached sessions and values describe the replaced data


def _db_type(conf):
    return conf.get("db_type", "sqlite")


def take_backup(bench, site, with_files=False):
    """Write the backup files of a site; returns their paths."""
    conf = sites.get_site_config(site, bench)
    root = sites.site_path(site, bench)
    folder = os.path.join(root, "private", "backups")
    os.makedirs(folder, exist_ok=True)
    prefix = _backup_prefix(folder, site)
    if _db_type(conf) == "sqlite":
        paths = [_backup_sqlite(conf, root, prefix + "-database.sqlite3.gz")]
    else:
        paths = [_backup_mariadb(conf, prefix + "-database.sql.gz")]
    if with_files:
        target = prefix + "-files.tar.gz"
        from .storage import storage_for
        with _atomic_file(target) as partial, tarfile.open(partial, "w:gz") as tar:
            # public/files and private/files, from the site's folders or its bucket alike
            storage_for(conf, root, site).add_to_tar(tar)
        paths.append(target)
    return paths


def _backup_prefix(folder, site):
    """<folder>/<timestamp>-<site>, unique even for two backups in the same second."""
    stamp = datetime.datetime.now().strftime("%Y%m%d_%H%M%S")
    prefix, n = os.path.join(folder, f"{stamp}-{site}"), 1
    while any(f.startswith(os.path.basename(prefix) + "-") for f in os.listdir(folder)):
        prefix, n = os.path.join(folder, f"{stamp}_{n}-{site}"), n + 1
    return prefix


@contextlib.contextmanager
def _atomic_file(path):
    """Yield a temporary name next to ``path``; it becomes ``path`` only when the block
    succeeds, so a failed backup never leaves a truncated file that looks complete."""
    partial = path + ".partial"
    try:
        yield partial
        os.replace(partial, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.remove(partial)


def _open_sqlite(conf, root):
    from .database import connect
    return connect(conf, root)  # the engine decides where the site's file is


def _backup_sqlite(conf, root, target):
    db = _open_sqlite(conf, root)
    try:
        with _atomic_file(target) as partial:
            fd, plain = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".sqlite3")
            os.close(fd)
            try:
                copy = sqlite3.connect(plain)
                # The online backup API copies a consistent snapshot, WAL included, while
                # the server keeps writing; copying the file itself could catch it half-written.
                db.conn.backup(copy)
                copy.close()
                with open(plain, "rb") as src, gzip.open(partial, "wb") as out:
                    shutil.copyfileobj(src, out)
            finally:
                os.remove(plain)
    finally:
        db.close()
    return target


def _restore_sqlite(conf, root, path):
    fd, plain = tempfile.mkstemp(dir=root, suffix=".sqlite3")
    os.close(fd)
    try:
        _gunzip(path, plain)
        source = sqlite3.connect(plain)
        try:
            _check_sqlite_backup(source, path)
            db = _open_sqlite(conf, root)
            try:
                # Restoring through the backup API (rather than swapping the file) writes the
                # pages through SQLite's own locking and WAL, so a running server's open
                # connections see the restored database instead of a deleted file.
                source.backup(db.conn)
            finally:
                db.close()
        finally:
            source.close()
    finally:
        os.remove(plain)


def _check_sqlite_backup(conn, path):
    try:
        ok = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='tabDocType'").fetchone()
    except sqlite3.DatabaseError as e:
        raise CommandError(f"{path} is not a SQLite backup: {e}")
    if not ok:
        raise CommandError(f"{path} is not a backup of a lowcode site (no tabDocType table)")


def _gunzip(path, target):
    try:
        with gzip.open(path, "rb") as src, open(target, "wb") as out:
            shutil.copyfileobj(src, out)
    except (OSError, EOFError, zlib.error) as e:
        raise CommandError(f"cannot read {path}: {e}")


def _mariadb_client(conf, *names):
    program = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if not program:
        raise CommandError(f"{names[0]} is not installed (the MariaDB client tools are needed)")
    args = [program, f"--host={conf.get('db_host', '127.0.0.1')}", f"--port={conf.get('db_port', 3306)}",
            f"--user={conf['db_user']}", "--default-character-set=utf8mb4"]
    # The password travels in the environment: never on a command line that `ps` shows.
    env = dict(os.environ, MYSQL_PWD=conf["db_password"])
    return args, env


def _run_client(args, env, stdin=None, stdout=None):
    with tempfile.TemporaryFile() as err:
        status = subprocess.run(args, stdin=stdin, stdout=stdout, stderr=err, env=env).returncode
        err.seek(0)
        message = _one_line(err.read().decode("utf-8", "replace"))
    if status != 0:
        raise CommandError(f"{os.path.basename(args[0])} failed: {message or f'exit status {status}'}")


def _backup_mariadb(conf, target):
    args, env = _mariadb_client(conf, "mariadb-dump", "mysqldump")
    # --single-transaction: a consistent snapshot of InnoDB tables without locking writers.
    args += ["--single-transaction", "--quick", "--no-tablespaces", conf["db_name"]]
    with _atomic_file(target) as partial:
        with tempfile.TemporaryFile() as dump:
            _run_client(args, env, stdout=dump)
            dump.seek(0)
            with gzip.open(partial, "wb") as out:
                shutil.copyfileobj(dump, out)
    return target


def _unpack_dump(path, out, needle=b"CREATE TABLE `tabDocType`"):
    """Gunzip ``path`` into ``out``; True when the SQL creates the DocType table."""
    found, tail = False, b""
    try:
        with gzip.open(path, "rb") as src:
            for chunk in iter(lambda: src.read(1 << 20), b""):
                found = found or needle in tail + chunk
                tail = chunk[-len(needle):]
                out.write(chunk)
    except (OSError, EOFError, zlib.error) as e:
        raise CommandError(f"cannot read {path}: {e}")
    return found


def _restore_mariadb(conf, root, path):
    from .database import connect
    from .database.base import quote
    with tempfile.TemporaryFile() as dump:
        # Unpack and check first: a damaged or foreign file is refused before the site
        # loses any table.
        if not _unpack_dump(path, dump):
            raise CommandError(f"{path} is not a backup of a lowcode site (no tabDocType table)")
        dump.seek(0)
        # Tables made after the backup would survive the dump's own DROP TABLEs: drop all.
        db = connect(conf, root)
        try:
            db.sql("SET FOREIGN_KEY_CHECKS=0")
            for name in db.sql("SELECT table_name FROM information_schema.tables WHERE table_schema=DATABASE()",
                               pluck=True):
                db.sql(f"DROP TABLE {quote(name)}")
        finally:
            db.close()
        args, env = _mariadb_client(conf, "mariadb", "mysql")
        _run_client(args + [conf["db_name"]], env, stdin=dump)
