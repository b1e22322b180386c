"""/app/send-sms/<name>?doctype=<DocType>: the "Send SMS" form action of records with
a mobile number (Lead, Contact, Customer): type the message, it is queued through
``send_sms`` (opt-out honoured) and the page shows what became of it."""
from django.http import HttpResponseRedirect

from ..context import local
from ..desk.render import render
from ..desk.views.common import desk_view
from ..document import get_doc
from ..exceptions import LowcodeError
from ..utils import route_for
from .sms import count_parts, send_from_record


@desk_view
def page(request, name):
    doctype = request.GET.get("doctype") or ""
    if not name or not doctype:
        return HttpResponseRedirect("/app")
    doc = get_doc(doctype, name)
    doc.check_permission("read")
    error = field = None
    status, sent = 200, []
    message = request.POST.get("message", "") if request.method == "POST" else ""
    if request.method == "POST":
        try:
            sent = [get_doc("SMS Log", n) for n in send_from_record(doctype, name, message)]
        except LowcodeError as e:
            if e.http_status == 403:
                raise
            local.db.rollback()
            local.db.begin()
            error, field, status = e.message, e.field, e.http_status
    encoding, parts = count_parts(message)
    return render("send_sms.html", status=status, doc=doc, doc_url=f"/app/{route_for(doctype)}/{name}",
                  mobile=doc.get("mobile_no") or "", message=message, sent=sent, error=error,
                  error_field=field, parts=parts, encoding=encoding)
