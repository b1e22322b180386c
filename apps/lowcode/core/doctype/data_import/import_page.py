"""/app/data-import-tool/<name>: the Data Import's working page (the form's "Preview and
import" button): template downloads, the column mapping with its suggestions (each
column mapped to a field or skipped), the preview of the first rows with every bad cell
marked, "Start import", a progress bar fed by the ``data_import_progress`` realtime
event, and the failed rows with their file. Everything a file holds is printed through
Jinja's escaping."""
import json
from urllib.parse import urlencode

from django.http import HttpResponseRedirect

from lowcode.context import local
from lowcode.desk.render import render
from lowcode.desk.views.common import desk_view
from lowcode.document import get_doc
from lowcode.exceptions import LowcodeError
from lowcode.i18n import translate as _

from . import data_import as di
from .importer import targets

METHOD = "/api/method/frappe.core.doctype.data_import.data_import."
SKIP = "__skip"


@desk_view
def page(request, name):
    doc = get_doc("Data Import", name)
    doc.check_permission("read")
    error, status = None, 200
    if request.method == "POST":
        doc.check_permission("write")
        try:
            if request.POST.get("action") == "map":
                mapping = {key[4:]: (None if value == SKIP else value)
                           for key, value in request.POST.items() if key.startswith("map:")}
                doc.template_options = json.dumps({"column_to_field_map": mapping}, ensure_ascii=False)
                doc.save()
            elif request.POST.get("action") == "start":
                di.start_import(doc.name)
            return HttpResponseRedirect(f"/app/data-import-tool/{doc.name}")
        except LowcodeError as e:
            if e.http_status == 403:
                raise
            local.db.rollback()
            local.db.begin()
            doc = get_doc("Data Import", name)
            error, status = e.message, e.http_status
    preview = choices = None
    if doc.import_file and error is None:
        try:
            preview = di.get_preview_from_template(doc.name)
        except LowcodeError as e:
            if e.http_status == 403:
                raise
            error, status = e.message, e.http_status
    if preview is not None:
        meta_targets = targets(doc.reference_doctype)
        choices = sorted(((t, _(c.df.label) if c.df is not None and c.df.label else c.header) for t, c
                          in meta_targets.items()), key=lambda tc: tc[0])
        bad = {(e["row"], e["column"]) for e in preview["errors"]}
        for row in preview["rows"]:
            row["bad"] = [(row["row"], c["header"]) in bad for c in preview["columns"]]
    failed = local.db.sql("SELECT `row_index`, `column`, `messages` FROM `tabData Import Log` WHERE "
                          "`data_import`=%s AND `success`=0 ORDER BY `row_index` LIMIT 200", (doc.name,))
    template_url = METHOD + "download_template?" + urlencode({"doctype": doc.reference_doctype,
                                                              "import_type": doc.import_type or ""})
    return render("data_import.html", status=status, doc=doc, preview=preview, choices=choices, skip=SKIP,
                  error=error, failed=failed, template_url=template_url,
                  failed_url=METHOD + "download_errored_template?" + urlencode({"data_import_name": doc.name}))
