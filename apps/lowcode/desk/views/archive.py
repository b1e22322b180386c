"""/app/archive: the document archive, the organisation's shared files in folders.

Browse a folder (its subfolders and files), search every readable folder and file by
name (names only: no library in the venv reads text out of PDFs cheaply), make a folder
(optionally for some roles only), upload into a folder, move and rename, and preview a
file: images inline, PDFs in a sandboxed frame, text as its first lines (escaped).
Who sees what is File's row rule (lowcode/archive.py), so listing, search and the
private-file download (api/files.py) agree. Uploads go through api/files.save_upload
(allow-list, size limit, safe names) and are always private; the download is never
active content (api/files.serve)."""
import os
from urllib.parse import urlencode

from django.http import HttpResponseNotAllowed, HttpResponseRedirect

from ... import query, set_value
from ...exceptions import BadRequest, LowcodeError
from ..render import render
from .common import desk_view, open_doc

FIELDS = ["name", "file_name", "is_folder", "folder", "file_size", "content_type", "file_url", "owner", "modified"]
IMAGE_TYPES = ("image/png", "image/jpeg", "image/gif", "image/webp", "image/bmp")
TEXT_EXTENSIONS = ("txt", "csv", "tsv", "md", "json", "eml", "ics", "vcf", "log", "html", "htm", "xml")
PREVIEW_LINES, PREVIEW_BYTES = 40, 16 * 1024


def _url(folder=None, **extra):
    params = {k: v for k, v in dict(folder=folder or "", **extra).items() if v}
    return "/app/archive" + ("?" + urlencode(params) if params else "")


def _items(folder=None, text=None):
    """Readable folders and files: in ``folder`` (the top: its folders), or anywhere in
    the archive whose name contains ``text``; folders first."""
    filters, or_filters = [], None
    if text:
        filters.append(["file_name", "like", f"%{text}%"])
        or_filters = [["is_folder", "=", 1], ["folder", "is", "set"]]
    elif folder:
        filters.append(["folder", "=", folder])
    else:
        filters += [["folder", "is", "not set"], ["is_folder", "=", 1]]
    return query.get_list("File", fields=FIELDS, filters=filters, or_filters=or_filters,
                          order_by="is_folder desc, file_name asc", limit_page_length=500)


def _folders():
    """Every readable folder, for the move menu: (name, path)."""
    from ...archive import path
    rows = query.get_list("File", fields=["name"], filters=[["is_folder", "=", 1]], order_by="file_name asc",
                          limit_page_length=500, pluck="name")
    return sorted(((name, " / ".join(n for _, n in path(name))) for name in rows), key=lambda r: r[1])


def _roles():
    return query.get_list("Role", fields=["name"], order_by="name asc", limit_page_length=500, pluck="name")


@desk_view
def browse(request, error=None, status=200):
    from ...archive import path
    folder = request.GET.get("folder") or request.POST.get("folder") or None
    text = (request.GET.get("q") or "").strip()
    current = open_doc("File", folder) if folder else None  # a folder the user may read
    if current is not None and not int(current.is_folder or 0):
        raise BadRequest("folder: not a folder", field="folder")
    return render("archive.html", status=status, folder=current, trail=path(folder) if folder else [],
                  items=_items(folder, text), q=text, folders=_folders(), roles=_roles(), error=error,
                  url=_url)


def _post(fn):
    """A change: POST only; on success back to the folder, else the page with the error
    (the request's transaction rolls back, nothing is written)."""
    def view(request):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        try:
            return HttpResponseRedirect(_url(fn(request)), status=303)
        except LowcodeError as e:
            return browse(request, error=e.message, status=getattr(e, "http_status", 417))
    return desk_view(view)


def _name(request, field):
    value = (request.POST.get(field) or "").strip()
    if not value:
        raise BadRequest(f"{field}: required", field=field)
    return value


@_post
def new_folder(request):
    from ...document import get_doc
    doc = get_doc({"doctype": "File", "is_folder": 1, "file_name": _name(request, "folder_name"),
                   "folder": request.POST.get("folder") or None,
                   "roles": [{"role": r} for r in request.POST.getlist("roles") if r]})
    doc.insert()
    return doc.folder


@_post
def upload(request):
    from ...api.files import save_upload
    folder = _name(request, "folder")
    upload = request.FILES.get("file")
    if upload is None:
        raise BadRequest("file: no file was sent", field="file")
    save_upload(upload, private=True, folder=folder)
    return folder


@_post
def move(request):
    return set_value("File", _name(request, "name"), "folder", _name(request, "target")).folder


@_post
def rename(request):
    return set_value("File", _name(request, "name"), "file_name", _name(request, "file_name")).folder


@desk_view
def preview(request, name):
    from ...api.files import read_stored
    from ...archive import path
    doc = open_doc("File", name)
    if int(doc.is_folder or 0):
        return HttpResponseRedirect(_url(doc.name))
    ext = os.path.splitext(doc.file_name or doc.file_url or "")[1].lstrip(".").lower()
    kind, text = "other", None
    if (doc.content_type or "") in IMAGE_TYPES:
        kind = "image"
    elif doc.content_type == "application/pdf":
        kind = "pdf"
    elif ext in TEXT_EXTENSIONS:
        kind = "text"
        try:
            head = read_stored(doc.file_url, PREVIEW_BYTES).decode("utf-8", errors="replace")
        except FileNotFoundError:
            head = None
        if head is not None:
            text = "\n".join(head.splitlines()[:PREVIEW_LINES])
    return render("archive_preview.html", doc=doc, kind=kind, text=text, trail=path(doc.folder), url=_url)


__all__ = ["browse", "new_folder", "upload", "move", "rename", "preview"]
