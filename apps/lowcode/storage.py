"""Where the bytes of stored files live: the site's own folders (``LocalStorage``, the
default) or an S3-compatible bucket (``S3Storage``, boto3), chosen by the site config's
``file_storage``. Every read, write and delete of a stored file's content goes through
``storage()``; api/files.py decides names, permissions and how a file may be shown, this
module only moves bytes.

A file is addressed as (private, name), its URL ``/files/<name>`` or
``/private/files/<name>`` whatever the backend, so File records and attachment fields stay
valid when a site moves its files to a bucket, and every download passes through the
server (a private one after its permission check)::

    "file_storage": {"backend": "s3", "bucket": "crm-files", "endpoint_url": "https://...",
                     "region": "eu-central-1", "access_key_id": "...", "secret_access_key": "...",
                     "prefix": "<site>/", "signed_url_seconds": 300}

Without ``access_key_id``/``secret_access_key`` boto3 finds credentials itself (the
``AWS_*`` environment variables, its config files, an instance role). The secret may be
given encrypted with the site's ``encryption_key`` (a Fernet token, as channel secrets are
kept), so site_config.json need not hold it in clear; it is never logged."""
import contextlib
import errno
import logging
import os
import threading
import uuid

from .context import local
from .exceptions import FileStorageUnavailable, InsufficientStorage

log = logging.getLogger(__name__)
FOLDERS = {False: "public/files", True: "private/files"}
_FULL = (errno.ENOSPC, errno.EDQUOT)


def storage():
    """The current site's storage."""
    return storage_for(local.conf, local.site_path, local.site)


def discard(store, private, name):
    """Delete a file's bytes after a commit or a rollback, when the request's answer is
    decided: a failure is logged (the bytes stay as an orphan), never raised."""
    try:
        store.delete(private, name)
    except Exception as e:  # noqa: BLE001 - see the docstring
        log.warning("could not delete the stored file %s/%s: %s", FOLDERS[bool(private)], name, e)


def storage_for(conf, site_path, site):
    settings = conf.get("file_storage") or {}
    backend = settings.get("backend") or "local"
    if backend == "local":
        return LocalStorage(site_path)
    if backend == "s3":
        return S3Storage(settings, site, conf.get("encryption_key"))
    raise FileStorageUnavailable(f"file_storage.backend: {backend!r} is not a storage backend (local or s3)")


class LocalStorage:
    """The site's ``public/files`` and ``private/files`` folders."""

    def __init__(self, site_path):
        self.root = site_path

    def path(self, private, name):
        return os.path.join(self.root, FOLDERS[bool(private)], name)

    def exists(self, private, name):
        return os.path.isfile(self.path(private, name))

    def open(self, private, name):
        """A binary file object to read; FileNotFoundError when there is none."""
        path = self.path(private, name)
        if not os.path.isfile(path):
            raise FileNotFoundError(path)
        return open(path, "rb")

    def head(self, private, name, size):
        with self.open(private, name) as f:
            return f.read(size)

    def save(self, private, name, content, content_type=None, disposition=None):
        """Write ``content`` as a new file; FileExistsError when the name is taken. It is
        written under a temporary name in the same folder, flushed to disk, then linked to
        its name (atomic, and failing if another request took the name meanwhile), so no
        reader sees half a file and a full disk leaves nothing behind."""
        path = self.path(private, name)
        folder = os.path.dirname(path)
        temp = os.path.join(folder, f".{uuid.uuid4().hex}.part")  # a leading dot: no URL names it
        try:
            os.makedirs(folder, exist_ok=True)
            with open(temp, "xb") as f:
                f.write(content)
                f.flush()
                os.fsync(f.fileno())
            os.link(temp, path)
            _fsync_dir(folder)
        except OSError as e:
            if e.errno in _FULL:
                raise InsufficientStorage(f"the disk holding the site's files ({folder}) is full: the file was "
                                          "not saved; free some space or ask the administrator", field="file") from None
            raise
        finally:
            with contextlib.suppress(FileNotFoundError):
                os.remove(temp)

    def delete(self, private, name):
        with contextlib.suppress(FileNotFoundError):
            os.remove(self.path(private, name))

    def response(self, private, name, filename, content_type, inline):
        from django.http import FileResponse
        return FileResponse(self.open(private, name), as_attachment=not inline, filename=filename,
                            content_type=content_type)

    def add_to_tar(self, tar):
        """Both folders into a backup archive, as ``public/files/...`` and ``private/files/...``."""
        for sub in FOLDERS.values():
            if os.path.isdir(os.path.join(self.root, sub)):
                # realpath: a files folder that links to a shared disk is archived, not the link
                tar.add(os.path.realpath(os.path.join(self.root, sub)), arcname=sub)


def _fsync_dir(folder):
    """The new name itself on disk too, not only the bytes."""
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


_clients = {}
_clients_lock = threading.Lock()


def _client(endpoint_url, region, key_id, secret):
    """One boto3 client per set of settings, shared by the process's threads (boto3
    clients are thread-safe; making one takes tens of milliseconds)."""
    key = (endpoint_url, region, key_id, secret)
    with _clients_lock:
        if key not in _clients:
            import boto3
            from botocore.config import Config
            config = Config(signature_version="s3v4", connect_timeout=5, read_timeout=30,
                            retries={"max_attempts": 3, "mode": "standard"},
                            # Path-style addresses work with any S3-compatible server on any host.
                            s3={"addressing_style": "path" if endpoint_url else "auto"})
            _clients[key] = boto3.client("s3", endpoint_url=endpoint_url or None, region_name=region or None,
                                         aws_access_key_id=key_id or None, aws_secret_access_key=secret or None,
                                         config=config)
        return _clients[key]


def _bucket_type(content_type, disposition):
    """A bucket's responses cannot carry ``nosniff``, so a download is sent as plain bytes
    whatever its type (a page named .png must not be sniffed into a page)."""
    if not content_type or not (disposition or "").startswith("inline"):
        return "application/octet-stream"
    return content_type


def _secret(value, encryption_key):
    """A secret given in clear, or as a Fernet token under the site's encryption_key."""
    if not value or not str(value).startswith("gAAAAA"):  # every Fernet token starts so
        return value
    from cryptography.fernet import Fernet, InvalidToken
    try:
        return Fernet(encryption_key.encode()).decrypt(str(value).encode()).decode()
    except (InvalidToken, AttributeError, ValueError):
        raise FileStorageUnavailable("file_storage.secret_access_key cannot be decrypted with the site's "
                                     "encryption_key") from None


class S3Storage:
    """Objects ``<prefix>public/files/<name>`` and ``<prefix>private/files/<name>`` in a
    bucket. Downloads are 302 redirects to presigned GET URLs living
    ``signed_url_seconds``, which carry the response type and disposition api/files.py
    decided, so the bucket needs no public policy and never serves an upload as active
    content; images and PDFs shown inline are streamed (see ``response``)."""

    def __init__(self, settings, site, encryption_key=None):
        self.bucket = settings.get("bucket")
        if not self.bucket:
            raise FileStorageUnavailable("file_storage.bucket is not set in the site config")
        prefix = settings.get("prefix")
        self.prefix = f"{site}/" if prefix is None else str(prefix)
        self.seconds = int(settings.get("signed_url_seconds") or 300)
        self.client = _client(settings.get("endpoint_url"), settings.get("region"), settings.get("access_key_id"),
                              _secret(settings.get("secret_access_key"), encryption_key))

    def key(self, private, name):
        return f"{self.prefix}{FOLDERS[bool(private)]}/{name}"

    @contextlib.contextmanager
    def _errors(self):
        """Missing objects as FileNotFoundError; a bucket that cannot be reached as a 503
        naming the bucket (never the credentials)."""
        from botocore.exceptions import BotoCoreError, ClientError
        try:
            yield
        except ClientError as e:
            code = str(e.response.get("Error", {}).get("Code"))
            if code in ("404", "NoSuchKey", "NotFound"):
                raise FileNotFoundError(code) from None
            if code in ("412", "PreconditionFailed", "ConditionalRequestConflict"):
                raise FileExistsError(code) from None
            raise FileStorageUnavailable(f"the file storage (bucket {self.bucket!r}) refused the request: "
                                         f"{code}") from None
        except BotoCoreError as e:
            raise FileStorageUnavailable(f"the file storage (bucket {self.bucket!r}) cannot be reached: "
                                         f"{type(e).__name__}") from None

    def exists(self, private, name):
        try:
            with self._errors():
                self.client.head_object(Bucket=self.bucket, Key=self.key(private, name))
            return True
        except FileNotFoundError:
            return False

    def open(self, private, name):
        with self._errors():
            return self.client.get_object(Bucket=self.bucket, Key=self.key(private, name))["Body"]

    def head(self, private, name, size):
        from botocore.exceptions import ClientError
        with self._errors():
            try:
                body = self.client.get_object(Bucket=self.bucket, Key=self.key(private, name),
                                              Range=f"bytes=0-{size - 1}")["Body"]
            except ClientError as e:
                if e.response.get("Error", {}).get("Code") == "InvalidRange" and self.exists(private, name):
                    return b""  # an empty object has no first bytes
                raise
            with body:
                return body.read()

    def save(self, private, name, content, content_type=None, disposition=None):
        """Put a new object; FileExistsError when the name is taken (a conditional write:
        another request may have taken the name). The object carries the safe type and
        disposition too, so even its bare URL would not render in a browser."""
        extra = {"ContentType": _bucket_type(content_type, disposition)}
        if disposition:
            extra["ContentDisposition"] = disposition
        with self._errors():
            self.client.put_object(Bucket=self.bucket, Key=self.key(private, name), Body=content,
                                   IfNoneMatch="*", **extra)

    def delete(self, private, name):
        with self._errors():
            self.client.delete_object(Bucket=self.bucket, Key=self.key(private, name))

    def response(self, private, name, filename, content_type, inline):
        """A download: a redirect to a signed address. A file shown inline (a real image
        or PDF, shown in the desk's pages) is streamed through the server instead: the
        desk's Content-Security-Policy loads images and frames from its own origin only."""
        from django.http import FileResponse, HttpResponseRedirect
        from django.utils.http import content_disposition_header
        if inline:
            return FileResponse(self.open(private, name), filename=filename, content_type=content_type)
        with self._errors():
            url = self.client.generate_presigned_url(
                "get_object", ExpiresIn=self.seconds,
                Params={"Bucket": self.bucket, "Key": self.key(private, name),
                        "ResponseContentType": _bucket_type(content_type, "inline" if inline else "attachment"),
                        "ResponseContentDisposition": content_disposition_header(not inline, filename)})
        response = HttpResponseRedirect(url)
        response["Cache-Control"] = "private, no-store"  # the signed address is for this request only
        return response

    def add_to_tar(self, tar):
        """Every object under the prefix into a backup archive, under the same names a
        local site's archive has, streamed object by object."""
        import tarfile
        with self._errors():
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=self.prefix)
            for page in pages:
                for item in page.get("Contents", ()):
                    arcname = item["Key"][len(self.prefix):]
                    if not arcname.startswith(tuple(f + "/" for f in FOLDERS.values())):
                        continue
                    info = tarfile.TarInfo(arcname)
                    info.size = item["Size"]
                    info.mtime = item["LastModified"].timestamp()
                    body = self.client.get_object(Bucket=self.bucket, Key=item["Key"])["Body"]
                    try:
                        tar.addfile(info, body)
                    finally:
                        body.close()
