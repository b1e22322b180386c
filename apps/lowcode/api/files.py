"""Files: upload (``/api/method/upload_file``, multipart), and download of public
(``/files/<name>``) and private (``/private/files/<name>``, permission-checked) files.
File names are reduced to a safe basename; a name taken by other content gets a
short suffix so uploads never overwrite each other."""
import hashlib
import mimetypes
import os
import re

from django.http import FileResponse, Http404

from ..context import local
from ..document import get_doc
from ..exceptions import PermissionError, ValidationError
from ..exceptions import BadRequest

MAX_FILE_SIZE = 25 * 1024 * 1024
_SAFE_NAME = re.compile(r"[^\w.\- ]+", re.UNICODE)


def _folder(private):
    return os.path.join(local.site_path, "private" if private else "public", "files")


def safe_name(name):
    base = os.path.basename((name or "").replace("\\", "/")).strip().lstrip(".")
    base = _SAFE_NAME.sub("_", base)[:120]
    if not base:
        raise BadRequest("the file has no usable name")
    return base


def save_file(filename, content, private=False, attached_to_doctype=None, attached_to_name=None,
              attached_to_field=None):
    if len(content) > MAX_FILE_SIZE:
        raise ValidationError(f"the file is larger than {MAX_FILE_SIZE // (1024 * 1024)} MB", field="file")
    if attached_to_doctype and attached_to_name:
        target = get_doc(attached_to_doctype, attached_to_name)
        target.check_permission("write")
    name = safe_name(filename)
    folder = _folder(private)
    os.makedirs(folder, exist_ok=True)
    digest = hashlib.sha256(content).hexdigest()
    path = os.path.join(folder, name)
    if os.path.exists(path):
        with open(path, "rb") as f:
            same = hashlib.sha256(f.read()).hexdigest() == digest
        if not same:
            stem, ext = os.path.splitext(name)
            name = f"{stem}-{digest[:6]}{ext}"
            path = os.path.join(folder, name)
    with open(path, "wb") as f:
        f.write(content)
    # The file is on disk before the record commits; if the transaction rolls back,
    # remove it again so a failed request leaves nothing behind.
    local.db.after_rollback(lambda: os.path.exists(path) and os.remove(path))
    url = ("/private/files/" if private else "/files/") + name
    doc = get_doc({"doctype": "File", "file_name": name, "file_url": url, "is_private": int(bool(private)),
                   "attached_to_doctype": attached_to_doctype, "attached_to_name": attached_to_name,
                   "attached_to_field": attached_to_field, "file_size": len(content),
                   "content_type": mimetypes.guess_type(name)[0], "content_hash": digest})
    doc.insert()
    if attached_to_field and attached_to_doctype and attached_to_name:
        target = get_doc(attached_to_doctype, attached_to_name)
        target.set(attached_to_field, url)
        target.save()
    return doc


def upload_file(is_private=0, doctype=None, docname=None, fieldname=None, file_url=None, **_):
    request = local.request
    upload = request.FILES.get("file")
    if upload is None:
        raise BadRequest("no file was sent (multipart field 'file')")
    content = upload.read()
    private = str(is_private).lower() in ("1", "true", "yes")
    doc = save_file(upload.name, content, private, doctype, docname, fieldname)
    return doc.as_dict()


def public_file(request, filename):
    path = os.path.join(_folder(False), safe_name(filename))
    if not os.path.isfile(path):
        raise Http404()
    return FileResponse(open(path, "rb"))


def private_file(request, filename):
    name = safe_name(filename)
    rows = local.db.sql("SELECT `name` FROM `tabFile` WHERE `file_url`=%s", ("/private/files/" + name,), pluck=True)
    if not rows:
        raise Http404()
    allowed = False
    for file_name in rows:
        f = get_doc("File", file_name)
        if f.attached_to_doctype and f.attached_to_name:
            from ..permissions import has_permission
            try:
                target = get_doc(f.attached_to_doctype, f.attached_to_name)
            except Exception:  # noqa: BLE001 - a file whose document is gone is not served
                continue
            allowed = has_permission(f.attached_to_doctype, "read", doc=target)
        else:
            from ..permissions import has_permission
            allowed = has_permission("File", "read", doc=f)
        if allowed:
            break
    if not allowed:
        raise PermissionError("Not permitted to read this file")
    path = os.path.join(_folder(True), name)
    if not os.path.isfile(path):
        raise Http404()
    return FileResponse(open(path, "rb"), as_attachment=True)
