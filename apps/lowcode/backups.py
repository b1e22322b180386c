"""Backups and restores of a site: SQLite through its online backup API, MariaDB
through mariadb-dump/mariadb (password in the environment, never on a command line);
files as a tar.gz; optionally encrypted in chunks (backup_crypto.py). Every file is written
under a temporary name first, so a failed backup never looks complete; a restore decrypts
and checks the database and files backups before touching anything. Scheduled backups and
their retention are at the end (site config ``backup_frequency``, ``backup_keep``,
``backup_keep_days``, ``backup_with_files``, ``encrypt_backup``); docs/ARCHITECTURE.md."""
import contextlib
import datetime
import gzip
import logging
import os
import re
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
import time
import zlib

from . import backup_crypto, sites
from .exceptions import CommandError

CHUNK = 1 << 20
log = logging.getLogger("lowcode.backups")


def _one_line(text):
    lines = [line.strip() for line in (text or "").strip().splitlines() if line.strip()]
    return lines[-1] if lines else ""


def check_backup_name(conf, path):
    suffix = ".sqlite3.gz" if _db_type(conf) == "sqlite" else ".sql.gz"
    if not _plain_name(path).endswith(suffix):
        raise CommandError(f"{path} is not a backup of a {_db_type(conf)} site (expected *{suffix})")


def _plain_name(path):
    return path[:-len(backup_crypto.SUFFIX)] if path.endswith(backup_crypto.SUFFIX) else path


def restore_backup(bench, site, path, files=None, migrate=True):
    """Replace the site's database with the backup at ``path`` (and its public and private
    files with the archive ``files``), then migrate (``migrate``: the restored rows are then
    the backup's but for the standard DocTypes' definitions, which migrate writes anew);
    returns a report (tables, rows, files).
    Everything is decrypted and checked before the site loses anything: a wrong key, a
    changed file or a foreign archive leaves the site as it was."""
    from .caches import META_VERSION_KEY, cache, get_meta_version
    from .installer import migrate as run_migrate
    conf = sites.get_site_config(site, bench.path)
    root = sites.site_path(site, bench.path)
    check_backup_name(conf, path)
    if files is not None and not _plain_name(files).endswith(".tar.gz"):
        raise CommandError(f"{files} is not a files backup (expected *-files.tar.gz)")
    with bench.context(site):
        version_before = get_meta_version()
    with contextlib.ExitStack() as stack:
        database = stack.enter_context(_readable(conf, root, path))
        if files is not None:
            staged = stack.enter_context(_staged_files(conf, root, files))
        if _db_type(conf) == "sqlite":
            _restore_sqlite(conf, root, database)
        else:
            _restore_mariadb(conf, root, database)
        if files is not None:
            _swap_files(root, staged)
    with bench.context(site) as local:
        # The restored metadata version may be one another process already cached different
        # definitions under; move past every version either database has seen.
        local.db.set_series_value(META_VERSION_KEY, max(version_before, get_meta_version()) + 1)
        if migrate:
            run_migrate()
        local.db.commit()
        cache().delete_prefix("")  # cached sessions and values describe the replaced data
        return restore_report(local.db, root if files is not None else None)


@contextlib.contextmanager
def _readable(conf, root, path):
    """``path`` itself, or for an encrypted backup a decrypted copy (every chunk checked)
    that is removed afterwards."""
    if not backup_crypto.is_encrypted(path):
        if path.endswith(backup_crypto.SUFFIX):
            raise CommandError(f"{path} is not an encrypted lowcode backup")
        yield path
        return
    fd, plain = tempfile.mkstemp(dir=root, suffix=".restore")
    os.close(fd)
    try:
        backup_crypto.decrypt_file(path, plain, backup_crypto.backup_key(conf))
        yield plain
    finally:
        os.remove(plain)


@contextlib.contextmanager
def _staged_files(conf, root, path):
    """Unpack a files archive into a folder beside the site's, after checking that it holds
    only regular files and folders under public/files and private/files (no links, no
    absolute or ``..`` paths); yields the folder, removed afterwards."""
    staging = tempfile.mkdtemp(dir=root, prefix=".restore-files-")
    try:
        with _readable(conf, root, path) as plain:
            try:
                with tarfile.open(plain, "r:gz") as tar:
                    members = tar.getmembers()
                    for m in members:
                        inside = any(m.name == sub or m.name.startswith(sub + "/") for sub in FILE_FOLDERS)
                        if not inside or ".." in m.name.split("/") or not (m.isfile() or m.isdir()):
                            raise CommandError(f"{path} is not a files backup of a lowcode site "
                                               f"(it holds {m.name!r})")
                    tar.extractall(staging, members=members, filter="data")
            except (tarfile.TarError, OSError, EOFError, zlib.error) as e:
                raise CommandError(f"cannot read {path}: {e}")
        yield staging
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _swap_files(root, staging):
    """Put the unpacked folders in place of the site's (a folder the backup did not have
    becomes empty: files added since the backup go, as rows added since it do)."""
    for sub in FILE_FOLDERS:
        current, new = os.path.join(root, sub), os.path.join(staging, sub)
        if not os.path.isdir(new):
            os.makedirs(new)
        if os.path.islink(current) or os.path.ismount(current):
            # A link to, or a mount of, another disk (files shared by several hosts) stays
            # where it is: its contents are replaced.
            _empty(current)
            shutil.copytree(new, current, dirs_exist_ok=True)
            continue
        old = current + ".before-restore"
        shutil.rmtree(old, ignore_errors=True)
        if os.path.exists(current):
            os.replace(current, old)
        os.makedirs(os.path.dirname(current), exist_ok=True)
        os.replace(new, current)
        shutil.rmtree(old, ignore_errors=True)


def _empty(folder):
    for entry in os.scandir(folder):
        if entry.is_dir(follow_symlinks=False):
            shutil.rmtree(entry.path)
        else:
            os.remove(entry.path)


def restore_report(db, root=None):
    """What a restore put back: tables and rows, and (with ``root``) the files and bytes."""
    from .fingerprint import _quoted, site_files, table_names
    report = {"tables": 0, "rows": 0}
    for name in table_names(db):
        report["tables"] += 1
        report["rows"] += db.sql(f"SELECT COUNT(*) FROM {_quoted(name)}")[0][0]
    if root is not None:
        found = list(site_files(root))
        report["files"] = len(found)
        report["bytes"] = sum(os.path.getsize(full) for _rel, full in found)
    return report


def _db_type(conf):
    return conf.get("db_type", "sqlite")


def take_backup(bench, site, with_files=False, encrypt=None):
    """Write the backup files of a site; returns their paths. ``encrypt``: None follows the
    site config's ``encrypt_backup``; encrypted files end in ``.enc`` (backup_crypto.py)."""
    conf = sites.get_site_config(site, bench)
    root = sites.site_path(site, bench)
    folder = backups_folder(root)
    os.makedirs(folder, exist_ok=True)
    prefix = _backup_prefix(folder, site)
    secret = backup_crypto.backup_key(conf) if (backup_crypto.wants_encryption(conf) if encrypt is None
                                                else encrypt) else None
    end = backup_crypto.SUFFIX if secret else ""
    if _db_type(conf) == "sqlite":
        paths = [_backup_sqlite(conf, root, prefix + "-database.sqlite3.gz" + end, secret)]
    else:
        paths = [_backup_mariadb(conf, prefix + "-database.sql.gz" + end, secret)]
    if with_files:
        target = prefix + "-files.tar.gz" + end
        from .storage import storage_for
        with _output(target, secret) as out, tarfile.open(fileobj=out, mode="w:gz") as tar:
            # public/files and private/files, from the site's folders or its bucket alike
            storage_for(conf, root, site).add_to_tar(tar)
        paths.append(target)
    return paths


FILE_FOLDERS = ("public/files", "private/files")


def backups_folder(root):
    return os.path.join(root, "private", "backups")


@contextlib.contextmanager
def _output(path, secret):
    """A binary file to write a backup into: ``path`` appears only when the block succeeds,
    sealed chunk by chunk when ``secret`` is given."""
    with _atomic_file(path) as partial, open(partial, "wb") as raw:
        if not secret:
            yield raw
            return
        sealed = backup_crypto.EncryptingWriter(raw, secret)
        yield sealed
        sealed.close()


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


def _backup_sqlite(conf, root, target, secret=None):
    db = _open_sqlite(conf, root)
    try:
        with _output(target, secret) as out:
            fd, plain = tempfile.mkstemp(dir=os.path.dirname(target), suffix=".sqlite3")
            os.close(fd)
            try:
                copy = sqlite3.connect(plain)
                # The online backup API copies a consistent snapshot, WAL included, while
                # the server keeps writing; copying the file itself could catch it half-written.
                db.conn.backup(copy)
                copy.close()
                with open(plain, "rb") as src, gzip.GzipFile(fileobj=out, mode="wb") as packed:
                    shutil.copyfileobj(src, packed, CHUNK)
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


def _backup_mariadb(conf, target, secret=None):
    args, env = _mariadb_client(conf, "mariadb-dump", "mysqldump")
    # --single-transaction: a consistent snapshot of InnoDB tables without locking writers.
    args += ["--single-transaction", "--quick", "--no-tablespaces", conf["db_name"]]
    with _output(target, secret) as out:
        with tempfile.TemporaryFile() as dump:
            _run_client(args, env, stdout=dump)
            dump.seek(0)
            with gzip.GzipFile(fileobj=out, mode="wb") as packed:
                shutil.copyfileobj(dump, packed, CHUNK)
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


# -- schedule and retention ----------------------------------------------------------------------
# Off until the site config names a ``backup_frequency`` (as a Frappe bench, where scheduled
# backups are turned on by `bench setup backups`, every 6 hours). The hourly job below only
# decides; the backup itself runs on the long queue, whose time limit fits a large dump.

FREQUENCIES = {"Hourly": datetime.timedelta(hours=1), "Every 6 Hours": datetime.timedelta(hours=6),
               "Daily": datetime.timedelta(days=1), "Weekly": datetime.timedelta(weeks=1)}
DEFAULT_KEEP = 4  # sets kept when neither backup_keep nor backup_keep_days is set
# A backup that took a few minutes must not push the next one an hour later.
_SLACK = datetime.timedelta(minutes=10)
BACKUP_TIMEOUT = 6 * 3600


def backup_period(conf):
    """The scheduled backups' period, or None when they are off; an unknown value is an error."""
    frequency = conf.get("backup_frequency") or ""
    if not frequency:
        return None
    if frequency not in FREQUENCIES:
        raise CommandError(f"backup_frequency {frequency!r} is not one of {', '.join(FREQUENCIES)}")
    return FREQUENCIES[frequency]


def backup_sets(root, site):
    """[(taken at, [paths])] of this site's backup sets in its backups folder, newest first.
    Only names this module writes count: other files there (a custom field's values kept by
    Customize Form, another site's backups, anything put there by hand) are never touched."""
    folder = backups_folder(root)
    pattern = re.compile(r"^(\d{8}_\d{6})(?:_(\d+))?-" + re.escape(site) +
                         r"-(?:database\.(?:sqlite3|sql)\.gz|files\.tar\.gz)(?:\.enc)?$")
    sets = {}
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        m = pattern.match(name)
        if m:
            key = (m.group(1), int(m.group(2) or 0))
            sets.setdefault(key, []).append(os.path.join(folder, name))
    return [(datetime.datetime.strptime(stamp, "%Y%m%d_%H%M%S"), sorted(paths))
            for (stamp, _n), paths in sorted(sets.items(), reverse=True)]


def prune_backups(root, site, conf, now=None):
    """Delete the sets beyond ``backup_keep`` (count) or older than ``backup_keep_days``; the
    newest set always stays. Returns the paths deleted."""
    now = now or datetime.datetime.now()
    keep, days = conf.get("backup_keep"), conf.get("backup_keep_days")
    if keep in (None, "") and days in (None, ""):
        keep = DEFAULT_KEEP
    deleted = []
    for rank, (taken, paths) in enumerate(backup_sets(root, site)):
        too_many = keep not in (None, "") and rank >= max(int(keep), 1)
        too_old = days not in (None, "") and now - taken > datetime.timedelta(days=float(days))
        if rank and (too_many or too_old):
            for path in paths:
                os.remove(path)
                deleted.append(path)
    return deleted


def backup_due(root, site, conf, now=None):
    period = backup_period(conf)
    if period is None or backup_running(root, site):
        return False
    sets = backup_sets(root, site)
    return not sets or (now or datetime.datetime.now()) - sets[0][0] >= period - _SLACK


def backup_running(root, site):
    """True while a backup of the site is being written (its ``.partial`` file, younger than
    the job's time limit): a dump slower than the schedule's hour is not started twice."""
    folder = backups_folder(root)
    for name in os.listdir(folder) if os.path.isdir(folder) else ():
        if f"-{site}-" in name and name.endswith(".partial"):
            with contextlib.suppress(FileNotFoundError):
                if time.time() - os.path.getmtime(os.path.join(folder, name)) < BACKUP_TIMEOUT:
                    return True
    return False


def backup_if_due():
    """Hourly scheduler job: queue the site's backup when its ``backup_frequency`` says so."""
    from .context import local
    from .jobs import enqueue
    if backup_due(local.site_path, local.site, local.conf):
        enqueue(scheduled_backup, queue="long", timeout=BACKUP_TIMEOUT, job_name="scheduled backup")


def scheduled_backup():
    """A scheduled backup (with files unless ``backup_with_files`` is 0), then retention."""
    from .context import local
    conf = local.conf
    paths = take_backup(local.bench, local.site, with_files=bool(int(conf.get("backup_with_files", 1) or 0)))
    deleted = prune_backups(local.site_path, local.site, conf)
    log.info("backup of %s: %s; %d old file(s) deleted", local.site, ", ".join(paths), len(deleted))
    return paths
