"""Files: upload (``/api/method/upload_file``, multipart), and download of public
(``/files/<name>``) and private (``/private/files/<name>``, permission-checked) files.

Uploads: file names are reduced to a safe basename, only the site's allowed
extensions (site_config ``allowed_file_extensions``) up to ``max_file_size`` bytes are
taken, and a name taken by other content gets a suffix, so uploads never overwrite
each other. Only this module sets a File's ``/files/`` or ``/private/files/`` URL
(see the File controller).

Downloads are never active content on the site's origin: every file response carries
``nosniff`` and a sandboxing CSP, and anything but a real image or PDF is sent as an
attachment, so an uploaded page or script cannot run with a user's session."""
import hashlib
import mimetypes
import os
import re

from django.http import Http404
from django.utils.http import content_disposition_header

from ..context import local
from ..document import get_doc
from ..exceptions import BadRequest, MaxFileSizeReachedError, PermissionError, ValidationError
from ..storage import discard, storage

MAX_FILE_SIZE = 25 * 1024 * 1024
# Documents, spreadsheets, images, archives, audio and video: what a CRM attaches.
# Types a browser runs (html, svg, js, xml, ...) are left out; a site may widen or
# narrow the list with ``allowed_file_extensions`` in its site_config.
DEFAULT_EXTENSIONS = frozenset("""
    pdf txt csv tsv md rtf doc docx odt xls xlsx ods ppt pptx odp
    png jpg jpeg gif webp bmp tif tiff heic
    zip gz tgz 7z rar
    mp3 m4a wav ogg oga mp4 m4v mov webm
    eml msg ics vcf json
""".split())
# Types shown in the browser rather than downloaded, each with the bytes every file of
# the type starts with: a "photo.png" holding HTML is not shown, whatever the browser
# would make of it. (A table of five signatures; a sniffing library would be more.)
_INLINE_SIGNATURES = {
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/gif": (b"GIF87a", b"GIF89a"),
    "image/webp": (b"RIFF",),
    "image/bmp": (b"BM",),
    "application/pdf": (b"%PDF-",),
}
FILE_CSP = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def stored_file(file_url):
    """(private, name) of a ``/files/`` or ``/private/files/`` URL, else None: the
    address of its bytes in the site's storage (lowcode/storage.py)."""
    for prefix, private in (("/private/files/", True), ("/files/", False)):
        if (file_url or "").startswith(prefix):
            name = file_url[len(prefix):]
            if name and _SAFE_NAME.search(name) is None and name == os.path.basename(name).lstrip("."):
                return private, name
            return None
    return None


def read_stored(file_url, size=-1):
    """The bytes (at most ``size``) of a stored file's URL; FileNotFoundError when it has none."""
    stored = stored_file(file_url)
    if stored is None:
        raise FileNotFoundError(file_url)
    with storage().open(*stored) as f:
        return f.read(size)


def safe_name(name):
    base = os.path.basename((name or "").replace("\\", "/")).strip().lstrip(".")
    base = _SAFE_NAME.sub("_", base)[:120]
    if not base:
        raise BadRequest("the file has no usable name", field="file")
    return base


def max_file_size():
    try:
        return int(local.conf.get("max_file_size") or MAX_FILE_SIZE)
    except (TypeError, ValueError):
        return MAX_FILE_SIZE


def allowed_extensions():
    """The site's upload allow-list: ``allowed_file_extensions`` as a list or a
    comma/newline separated text, else the default list."""
    conf = local.conf.get("allowed_file_extensions")
    if not conf:
        return DEFAULT_EXTENSIONS
    items = conf if isinstance(conf, (list, tuple)) else re.split(r"[\s,]+", str(conf))
    return frozenset(str(e).strip().lstrip(".").lower() for e in items if str(e).strip())


def check_upload(name, size):
    """Refuse a file over the site's size limit (413) or of a type not allowed (417)."""
    limit = max_file_size()
    if size > limit:
        raise MaxFileSizeReachedError(f"the file is larger than the limit of {_megabytes(limit)} MB", field="file")
    ext = os.path.splitext(name)[1].lstrip(".").lower()
    if ext not in allowed_extensions():
        raise ValidationError(f"files of type {('.' + ext) if ext else 'without extension'!r} may not be "
                              "uploaded to this site", field="file")


def _megabytes(size):
    mb = size / (1024 * 1024)
    return f"{mb:g}" if mb >= 1 else f"{mb:.2f}"


def _same_content(store, private, name, digest):
    with store.open(private, name) as f:
        return hashlib.file_digest(f, "sha256").hexdigest() == digest


def _free_name(store, private, name, digest, reuse):
    """(name, exists): the name itself when free (or, with ``reuse``, holding the same
    content), else one with a suffix from the content's hash (longer, then numbered,
    while taken)."""
    stem, ext = os.path.splitext(name)
    candidates = [name, f"{stem}-{digest[:6]}{ext}", f"{stem}-{digest[:16]}{ext}"]
    candidates += [f"{stem}-{digest[:16]}-{i}{ext}" for i in range(2, 100)]
    for candidate in candidates:
        if not store.exists(private, candidate):
            return candidate, False
        if reuse and _same_content(store, private, candidate, digest):
            return candidate, True
    raise ValidationError("too many files of this name; rename the file", field="file")


def save_file(filename, content, private=False, attached_to_doctype=None, attached_to_name=None,
              attached_to_field=None, folder=None):
    name = safe_name(filename)
    check_upload(name, len(content))
    store = storage()
    digest = hashlib.sha256(content).hexdigest()
    # Public bytes are shared between uploads of the same content; private ones never
    # are: a guessed name and content must not confirm, nor open, someone's private file.
    name, exists = _free_name(store, private, name, digest, reuse=not private)
    url = ("/private/files/" if private else "/files/") + name
    doc = get_doc({"doctype": "File", "file_name": name, "file_url": url, "is_private": int(bool(private)),
                   "attached_to_doctype": attached_to_doctype, "attached_to_name": attached_to_name,
                   "attached_to_field": attached_to_field, "folder": folder or None, "file_size": len(content),
                   "content_type": mimetypes.guess_type(name)[0], "content_hash": digest})
    doc.flags.stored_by_server = True  # the File controller refuses local URLs from anyone else
    doc.insert()  # permission to attach (or to read the folder) is checked here, before any byte is written
    if not exists:
        content_type, inline = delivery(name, content[:16])
        # Never overwrites: another request may have taken the name (FileExistsError).
        store.save(private, name, content, content_type, content_disposition_header(not inline, name))
        # The bytes are stored before the record commits; if the transaction rolls back,
        # remove them again so a failed request leaves nothing behind.
        local.db.after_rollback(lambda: discard(store, private, name))
    if attached_to_field and attached_to_doctype and attached_to_name:
        target = get_doc(attached_to_doctype, attached_to_name)
        target.set(attached_to_field, url)
        target.save()
    return doc


def upload_file(is_private=0, doctype=None, docname=None, fieldname=None, file_url=None, folder=None, **_):
    request = local.request
    upload = request.FILES.get("file")
    if upload is None and file_url:
        return link_file(file_url, doctype, docname, fieldname, folder=folder).as_dict()
    if upload is None:
        raise BadRequest("no file was sent (multipart field 'file'), nor an http(s) file_url", field="file")
    private = str(is_private).lower() in ("1", "true", "yes")
    return save_upload(upload, private, doctype, docname, fieldname, folder=folder).as_dict()


def save_upload(upload, private, attached_to_doctype=None, attached_to_name=None, attached_to_field=None,
                folder=None):
    """An uploaded file (Django's UploadedFile) saved as a File: its size and type are
    checked before it is read into memory."""
    check_upload(safe_name(upload.name), upload.size)
    return save_file(upload.name, upload.read(), private, attached_to_doctype, attached_to_name, attached_to_field,
                     folder=folder)


def link_file(file_url, attached_to_doctype=None, attached_to_name=None, attached_to_field=None, folder=None):
    """A File pointing at an http(s) address (Frappe's upload_file with only ``file_url``):
    no bytes are stored, and it never names a path on this server (the File controller
    refuses local URLs it did not store itself)."""
    from urllib.parse import urlparse
    parsed = urlparse((file_url or "").strip())
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise ValidationError(f"file_url: {file_url!r} is not an http(s) address", field="file_url")
    doc = get_doc({"doctype": "File", "file_name": safe_name(os.path.basename(parsed.path) or parsed.netloc),
                   "file_url": parsed.geturl(), "is_private": 0, "attached_to_doctype": attached_to_doctype,
                   "attached_to_name": attached_to_name, "attached_to_field": attached_to_field,
                   "folder": folder or None})
    doc.insert()  # permission to attach to the record is checked here
    if attached_to_field and attached_to_doctype and attached_to_name:
        target = get_doc(attached_to_doctype, attached_to_name)
        target.set(attached_to_field, doc.file_url)
        target.save()
    return doc


def delivery(name, head):
    """(content type, inline) a file is sent with, from its name and first 16 bytes:
    shown inline only when it really is an image or a PDF, else downloaded as a type no
    browser renders."""
    content_type = mimetypes.guess_type(name)[0] or "application/octet-stream"
    inline = any(head.startswith(sig) for sig in _INLINE_SIGNATURES.get(content_type, ()))
    if content_type == "image/webp" and head[8:12] != b"WEBP":
        inline = False
    return (content_type if inline else _download_type(content_type)), inline


def serve(private, name):
    """A stored file as a response that cannot run as part of the site: shown inline
    only when it is really an image or a PDF, else downloaded; never sniffed. From a
    bucket: a redirect to a short-lived signed address carrying the same type and
    disposition (lowcode/storage.py)."""
    store = storage()
    try:
        head = store.head(private, name, 16)
    except FileNotFoundError:
        raise Http404() from None
    content_type, inline = delivery(name, head)
    try:
        response = store.response(private, name, name, content_type, inline)
    except FileNotFoundError:
        raise Http404() from None
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = FILE_CSP
    return response


def _download_type(content_type):
    # A type a browser would render (text/html, image/svg+xml, ...) is sent as plain
    # bytes: with the attachment disposition and nosniff it is saved, never shown.
    if content_type.startswith(("text/html", "image/svg", "application/xhtml", "text/xml", "application/xml",
                                "text/javascript", "application/javascript")):
        return "application/octet-stream"
    return content_type


def public_file(request, filename):
    return serve(False, safe_name(filename))


def private_file(request, filename):
    """A private file, to whoever may read the document it is attached to; an
    unattached one to its owner (and System Managers, through File's permissions)."""
    from ..permissions import has_permission
    name = safe_name(filename)
    rows = local.db.sql("SELECT `name` FROM `tabFile` WHERE `file_url`=%s", ("/private/files/" + name,), pluck=True)
    if not rows:
        raise Http404()
    allowed = False
    for file_name in rows:
        f = get_doc("File", file_name)
        if f.attached_to_doctype and f.attached_to_name:
            try:
                target = get_doc(f.attached_to_doctype, f.attached_to_name)
            except Exception:  # noqa: BLE001 - a file whose document is gone is not served
                continue
            allowed = has_permission(f.attached_to_doctype, "read", doc=target)
        else:
            allowed = has_permission("File", "read", doc=f)
        if allowed:
            break
    if not allowed:
        raise PermissionError("Not permitted to read this file")
    return serve(True, name)
