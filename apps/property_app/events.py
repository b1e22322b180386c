"""How leads and properties stay in step: the ``doc_events`` hook and the daily job."""
from lowcode.context import local


def recount(name):
    count = local.db.sql("SELECT COUNT(*) FROM `tabLead` WHERE `interested_property`=%s", (name,))[0][0]
    local.db.sql("UPDATE `tabProperty` SET `lead_count`=%s WHERE `name`=%s", (count, name))
    return count


def lead_changed(doc, method=None):
    """doc_events Lead.on_update: the property the lead is (or was) interested in."""
    previous = doc._doc_before_save  # the stored lead on a save, None on insert
    for name in {doc.get("interested_property"), previous and previous.get("interested_property")}:
        if name:
            recount(name)


def recount_all():
    """scheduler_events daily: every property's count, read again from the leads."""
    for name in local.db.sql("SELECT `name` FROM `tabProperty`", pluck=True):
        recount(name)
