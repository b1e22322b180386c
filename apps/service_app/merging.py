"""Merging duplicate cases and splitting one case into two.

- Merge: the duplicate's activities (notes, tasks, call logs, events, communications),
  comments, attachments and time logs move to the survivor; the duplicate keeps its
  history, records ``merged_into`` and is closed.
- Split: a new case with ``split_from``, the subject given, and the customer, contact and
  product (and channel, sender, language, team, priority) of the one it came from.

Both need write permission on every case they touch, decided on the stored documents
before anything is written. Desk pages /app/case-merge/<case> and /app/case-split/<case>
(form actions on Case) ask for the other case or the new subject."""
from django.http import HttpResponseRedirect

import lowcode
from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view
from lowcode.exceptions import LowcodeError, ValidationError
from lowcode.workflow import add_comment

from crm_app.conversion import ACTIVITY_DOCTYPES
from service_app.cases import create_case
from service_app.time_tracking import update_case_hours

#: (table, reference DocType column, reference name column, extra condition) of the records that move;
#: of the comments only people's own and attachment notes: the duplicate keeps its state and assignment history.
MOVED = [(dt, "reference_doctype", "reference_name", "") for dt in ACTIVITY_DOCTYPES] + [
    ("Comment", "reference_doctype", "reference_name", " AND `comment_type` IN ('Comment', 'Attachment')"),
    ("File", "attached_to_doctype", "attached_to_name", "")]
COPIED_TO_SPLIT = ("customer", "contact", "product", "channel", "raised_by", "language", "service_team", "priority",
                   "issue_type", "category")


def _writable(name, field):
    if not name:
        raise ValidationError(lowcode._("Choose a case"), field=field)
    if not local.db.exists("Case", name):
        raise lowcode.DoesNotExistError(f"Case {name} not found", field=field, doctype="Case")
    doc = lowcode.get_doc("Case", name)
    doc.check_permission("write")
    return doc


@lowcode.whitelist(methods=["POST"])
def merge_case(case: str, into: str):
    """Merge duplicate ``case`` into ``into``; returns {"name": the survivor}."""
    duplicate, survivor = _writable(case, "case"), _writable(into, "into")
    if duplicate.name == survivor.name:
        raise ValidationError(lowcode._("A case cannot be merged into itself"), field="into")
    if duplicate.merged_into:
        raise ValidationError(lowcode._("This case was already merged into {0}", duplicate.merged_into), field="case")
    if survivor.merged_into:
        raise ValidationError(lowcode._("{0} was merged into {1}: merge into that case", survivor.name,
                                        survivor.merged_into), field="into")
    if duplicate.customer and survivor.customer and duplicate.customer != survivor.customer:
        # the activities would land in another customer's history (and 360° view)
        raise ValidationError(lowcode._("{0} and {1} are cases of different customers", duplicate.name,
                                        survivor.name), field="into")
    for table, type_column, name_column, only in MOVED:
        local.db.sql(f"UPDATE `tab{table}` SET `{name_column}`=%s WHERE `{type_column}`='Case' "
                     f"AND `{name_column}`=%s{only}", (survivor.name, duplicate.name))
    local.db.sql("UPDATE `tabCase Time Log` SET `case`=%s, `customer`=%s WHERE `case`=%s",
                 (survivor.name, survivor.customer, duplicate.name))
    update_case_hours(duplicate.name, survivor.name)
    duplicate = lowcode.get_doc("Case", duplicate.name)  # its total_hours changed
    duplicate.merged_into = survivor.name
    duplicate.status = "Closed"
    duplicate.resolution_details = duplicate.resolution_details or f"Merged into {survivor.name}"
    duplicate.flags.workflow_action = "Merge"  # closing follows the merge, not a workflow transition
    try:
        duplicate.save(ignore_permissions=True)  # write on both cases was checked above (_writable)
    finally:
        duplicate.flags.workflow_action = None
    add_comment("Case", duplicate.name, "Info", f"Merged into {survivor.name}")
    add_comment("Case", survivor.name, "Info", f"{duplicate.name} merged into this case")
    return {"name": survivor.name}


@lowcode.whitelist(methods=["POST"])
def split_case(case: str, subject: str, description: str = None):
    """A new case split off ``case``; returns {"name": the new case}."""
    source = _writable(case, "case")
    if not (subject or "").strip():
        raise ValidationError(lowcode._("Give the new case a subject"), field="subject")
    values = {f: source.get(f) for f in COPIED_TO_SPLIT if source.get(f)}
    values.setdefault("channel", "Phone")
    new = create_case(subject.strip(), description=description or None, **values)
    # the link is bookkeeping (a payload never sets it; see Case.before_validate)
    local.db.sql("UPDATE `tabCase` SET `split_from`=%s WHERE `name`=%s", (source.name, new.name))
    new.split_from = source.name
    add_comment("Case", source.name, "Info", f"Split into {new.name}: {new.subject}")
    add_comment("Case", new.name, "Info", f"Split from {source.name}")
    return {"name": new.name}


def _page(request, name, mode):
    if not name:
        return HttpResponseRedirect("/app/case")
    case = lowcode.get_doc("Case", name)
    case.check_permission("write")
    error = field = None
    status = 200
    if request.method == "POST":
        try:
            if mode == "merge":
                result = merge_case(name, (request.POST.get("into") or "").strip())
            else:
                result = split_case(name, request.POST.get("subject"), request.POST.get("description"))
            return HttpResponseRedirect(f"/app/case/{result['name']}")
        except LowcodeError as e:
            if e.http_status == 403:
                raise
            local.db.rollback()
            local.db.begin()
            error, field, status = e.message, e.field, e.http_status
    return render("service_app/case_merge_split.html", status=status, case=case, mode=mode,
                  error=error, error_field=field, values=request.POST if request.method == "POST" else {})


@desk_view
def merge_page(request, name):
    """/app/case-merge/<case>"""
    return _page(request, name, "merge")


@desk_view
def split_page(request, name):
    """/app/case-split/<case>"""
    return _page(request, name, "split")
