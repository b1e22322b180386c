"""Files: either a file the server stored (``/files/<name>`` or
``/private/files/<name>``, set only by lowcode.api.files when it writes the bytes) or
an external http(s) address a client gives.

A client can therefore never point a File at bytes it did not upload: the download of
a private file is allowed through the File records that name its path, so such a
record would be a key to someone else's file. Attaching a File to a document needs
write permission on that document (its readers can then download the file). The bytes
of a stored file are removed once the last File naming them is deleted and committed.

Folders (Frappe's ``is_folder``/``folder``) hold the organisation's shared files, the
document archive (lowcode/archive.py: who may read what; desk/views/archive.py: the page).
A folder has no bytes, and a new folder starts with its parent's roles."""
from lowcode.context import local
from lowcode.document import Document, check_reference, delete_doc
from lowcode.exceptions import ValidationError
from lowcode.meta import doctype_exists
from lowcode.urls import is_web_url

# What only the server knows about stored bytes; a client's values are ignored.
_STORED_FIELDS = ("is_private", "file_size", "content_hash", "content_type")


class File(Document):
    def validate(self):
        before = self._doc_before_save
        if before is not None:
            self.is_folder = before.is_folder  # a file never becomes a folder, nor a folder a file
        self._check_folder(before)
        if int(self.is_folder or 0):
            if not (self.file_name or "").strip():
                raise ValidationError("File Name: a folder needs a name", field="file_name")
            self.file_url = self.attached_to_doctype = self.attached_to_name = None
            self.is_private = 0
            return
        url = (self.file_url or "").strip() or None
        self.file_url = url
        if url is None:
            raise ValidationError("File URL is required: upload a file or give an http(s) address",
                                  field="file_url")
        if before is not None and url == before.file_url:
            if is_stored(url):
                for key in _STORED_FIELDS:
                    self.set(key, before.get(key))
        elif not self.flags.stored_by_server:
            if not is_web_url(url):
                raise ValidationError(f"File URL: {url!r} is not an http(s) address (files are stored by "
                                      "uploading them)", field="file_url")
        if not is_stored(url):
            self.is_private = 0
            self.content_hash = None
        else:
            self.is_private = int(url.startswith("/private/files/"))
        self._check_attachment(before)

    def _check_folder(self, before):
        """The folder must be a folder the user may read, never the folder itself or one
        inside it; a new folder takes its parent's roles unless it has its own."""
        from lowcode.archive import check_folder, inherit_roles
        self.folder = self.folder or None
        if self.folder is None or (before is not None and self.folder == before.folder):
            return
        check_folder(self)
        if before is None and int(self.is_folder or 0) and not self.get("roles"):
            inherit_roles(self)

    def _check_attachment(self, before):
        """Attaching to a document (or moving the attachment) needs write on it."""
        target = (self.attached_to_doctype, self.attached_to_name)
        if not all(target):
            return
        if before is not None and target == (before.attached_to_doctype, before.attached_to_name):
            return
        if self.flags.ignore_permissions:
            return
        if not doctype_exists(target[0]) or not local.db.exists(target[0], target[1]):
            raise ValidationError(f"Attached To: {target[0]} {target[1]!r} not found", field="attached_to_name")
        check_reference(self, "attached_to_doctype", "attached_to_name", "write")

    def after_delete(self):
        from lowcode.api.files import stored_file
        from lowcode.storage import discard, storage
        stored = stored_file(self.file_url)
        if stored is None:
            return
        if local.db.sql("SELECT 1 FROM `tabFile` WHERE `file_url`=%s LIMIT 1", (self.file_url,)):
            return  # another File (an upload of the same content) still names the bytes
        # Only once the deletion is final: a rolled back delete keeps its file.
        store = storage()
        local.db.after_commit(lambda: discard(store, *stored))


def delete_attachments(doc, method=None):
    """doc_events["*"]["after_delete"]: a deleted document's attachments go with it (Frappe's
    remove_all), each through File's own delete so its bytes go once no other File names
    them. A renamed document keeps them (rename.py moves ``attached_to_name``)."""
    if doc.doctype == "File" or doc.meta.istable or not local.db.table_exists("File"):
        return
    names = local.db.sql("SELECT `name` FROM `tabFile` WHERE `attached_to_doctype`=%s AND `attached_to_name`=%s",
                         (doc.doctype, doc.name), pluck=True)
    for name in names:
        delete_doc("File", name, ignore_permissions=True, force=True)


def is_stored(url):
    return (url or "").startswith(("/files/", "/private/files/"))
