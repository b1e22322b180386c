"""fetch_from (Frappe's): a field "link.remote" takes the linked document's value when
the document is new or its link changes; fetch_if_empty only fills an empty field; an
edit with the link unchanged keeps what the user wrote."""
import lowcode


def test_fetch_from_follows_the_link(ctx, make_doctype, unique):
    source = make_doctype([{"fieldname": "city", "fieldtype": "Data", "label": "City"}],
                          name=f"Fetch Source {unique}", autoname="hash")
    target = make_doctype([
        {"fieldname": "source", "fieldtype": "Link", "label": "Source", "options": source},
        {"fieldname": "city", "fieldtype": "Data", "label": "City", "fetch_from": "source.city"},
        {"fieldname": "home", "fieldtype": "Data", "label": "Home", "fetch_from": "source.city", "fetch_if_empty": 1},
        {"fieldname": "made_by", "fieldtype": "Data", "label": "Made by", "fetch_from": "source.owner"},
    ], name=f"Fetch Target {unique}", autoname="hash")
    tehran = lowcode.get_doc({"doctype": source, "city": "Tehran"}).insert().name
    haifa = lowcode.get_doc({"doctype": source, "city": "Haifa"}).insert().name
    doc = lowcode.get_doc({"doctype": target, "source": tehran, "home": "Shiraz"}).insert()
    assert (doc.city, doc.home, doc.made_by) == ("Tehran", "Shiraz", "Administrator")
    doc.city = "Typed by hand"
    doc.save()
    assert lowcode.db.get_value(target, doc.name, "city") == "Typed by hand"  # link unchanged: kept
    doc.source = haifa
    doc.save()
    assert (lowcode.db.get_value(target, doc.name, "city"), lowcode.db.get_value(target, doc.name, "home")) == (
        "Haifa", "Shiraz")
    doc.source = None
    doc.home = None
    doc.save()
    assert lowcode.db.get_value(target, doc.name, "city") is None
