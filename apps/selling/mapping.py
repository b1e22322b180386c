"""One document made from another (ERPNext's get_mapped_doc, for the few maps the app
needs): the priced lines, additional discount, price list and taxes carry over."""
import lowcode

LINE_FIELDS = ("product", "description", "qty", "rate", "discount_percentage")


def copy_lines(source, target):
    for item in source.get("items") or []:
        target.append("items", {f: item.get(f) for f in LINE_FIELDS})
    for tax in source.get("taxes") or []:
        target.append("taxes", {"description": tax.description, "rate": tax.rate})


def draft_from(source, doctype, **values):
    doc = lowcode.new_doc(doctype, **values)
    doc.price_list = source.get("price_list")
    doc.discount_amount = source.get("discount_amount")
    copy_lines(source, doc)
    return doc
