"""The document archive: the organisation's shared files in folders (Frappe's File with
``is_folder`` and ``folder``), each folder optionally restricted to roles.

Who may read a File (the engine's own ``permission_query_conditions`` and
``has_permission`` hooks for File, so lists, search, REST and the private-file download
all obey it, in SQL for lists):
- its owner (as before: everyone's own uploads and attachments);
- anyone, for a folder or a file in a folder ("archived"), when the folder's roles
  (``roles``: Has Role rows; none: every desk user) include one of the user's roles, and
  for a folder also its own roles. A new folder takes its parent's roles (File.validate),
  so a folder inside a restricted folder stays restricted;
- System Managers every File.
Attachments of documents stay readable through their document (api/files.py)."""
import lowcode
from lowcode.context import local
from lowcode.exceptions import ValidationError

SEE_ALL = {"System Manager", "Administrator"}
_ROLES = ("SELECT 1 FROM `tabHas Role` r WHERE r.`parenttype`='File' AND r.`parent`={of}")


def conditions(user, doctype):
    roles = sorted(lowcode.get_roles(user))
    if set(roles) & SEE_ALL:
        return None
    t = "`tabFile`"
    marks = ", ".join(["%s"] * len(roles))

    def allowed(of):
        return f"(NOT EXISTS ({_ROLES.format(of=of)}) OR EXISTS ({_ROLES.format(of=of)} AND r.`role` IN ({marks})))"
    sql = (f"({t}.`owner`=%s OR (({t}.`is_folder`=1 OR {t}.`folder` IS NOT NULL) "
           f"AND ({t}.`is_folder`=0 OR {allowed(t + '.`name`')}) "
           f"AND ({t}.`folder` IS NULL OR {allowed(t + '.`folder`')})))")
    return sql, [user, *roles, *roles]


def permission(doc, ptype=None, user=None):
    """One File, as ``conditions`` (the stored one, when it is written)."""
    user = user or local.user
    roles = lowcode.get_roles(user)
    if doc.is_new() or roles & SEE_ALL or doc.owner == user:
        return None
    if ptype not in (None, "read", "print", "email", "export", "report", "share"):
        return None  # writing is the role rules' (their own files only)
    folder = doc.get("folder") or None
    if not int(doc.get("is_folder") or 0) and folder is None:
        return False  # an attachment, or someone's own upload
    if int(doc.get("is_folder") or 0) and not _roles_allow({r.role for r in doc.get("roles") or []}, roles):
        return False
    return None if folder is None or _roles_allow(folder_roles(folder), roles) else False


def _roles_allow(targets, roles):
    return not targets or bool(targets & roles)


def folder_roles(folder):
    return set(local.db.sql("SELECT `role` FROM `tabHas Role` WHERE `parenttype`='File' AND `parent`=%s",
                            (folder,), pluck=True))


def check_folder(doc):
    """``doc.folder`` names a folder the user may read, and not ``doc`` or a folder in it."""
    from lowcode.document import load_doc
    from lowcode.exceptions import DoesNotExistError
    try:
        folder = load_doc("File", doc.folder)
    except DoesNotExistError:
        raise ValidationError(f"Folder: {doc.folder!r} not found", field="folder") from None
    if not int(folder.is_folder or 0):
        raise ValidationError(f"Folder: {doc.folder!r} is not a folder", field="folder")
    if not doc.flags.ignore_permissions:
        folder.check_permission("read")
    seen, current = set(), folder.name
    while current and current not in seen:  # the path up from the new folder
        if current == doc.name:
            raise ValidationError("Folder: a folder cannot go inside itself", field="folder")
        seen.add(current)
        current = local.db.get_value("File", current, "folder")


def inherit_roles(doc):
    for role in sorted(folder_roles(doc.folder)):
        doc.append("roles", {"role": role})


def path(folder):
    """[(name, file_name)] from the top folder down to ``folder``."""
    out, seen = [], set()
    while folder and folder not in seen:
        seen.add(folder)
        row = local.db.sql("SELECT `name`, `file_name`, `folder` FROM `tabFile` WHERE `name`=%s", (folder,),
                           as_dict=True)
        if not row:
            break
        out.append((row[0]["name"], row[0]["file_name"]))
        folder = row[0]["folder"]
    return out[::-1]
