"""Record badges: apps mark records that need attention wherever they appear, with a
hook in hooks.py::

    record_badges = {"Customer": {"field": "is_blocked", "label": "Blocked", "style": "danger"}}

A rule with a ``value`` marks records whose field holds that value (e.g. a Select
``status`` of "Failing") instead of a checked Check field.

The form of a marked record shows the badge in its header, and every Link (or Dynamic
Link) to it in lists and forms shows it beside the value. One query per DocType per
page, only over records the user may read."""
from ..apps import get_hooks
from ..fields import link_target
from ..permissions import permitted_fieldnames, role_access
from .. import query


def badge_rules():
    """{doctype: {"field", "label", "style"}} from every installed app (last wins)."""
    # Merged hooks hold each key's values from every app as a list: the last app wins.
    return {doctype: {k: (v[-1] if isinstance(v, list) else v) for k, v in rule.items()}
            for doctype, rule in get_hooks("record_badges", {}).items()}


def own_badge(doc):
    """The badge of the record itself, or None."""
    rule = badge_rules().get(doc.doctype)
    if rule and _holds(rule, doc.get(rule["field"])) and rule["field"] in permitted_fieldnames(doc.doctype, doc=doc):
        return rule
    return None


def _holds(rule, value):
    if "value" in rule:
        return value == rule["value"]
    return bool(int(value or 0))


def marked(targets):
    """{(doctype, name): badge} for the given (doctype, name) pairs that are marked."""
    rules = badge_rules()
    wanted = {}
    for doctype, name in targets:
        if doctype in rules and name:
            wanted.setdefault(doctype, set()).add(name)
    out = {}
    for doctype, names in wanted.items():
        rule = rules[doctype]
        if role_access(doctype, "read") is None or rule["field"] not in permitted_fieldnames(doctype):
            continue
        for name in query.get_list(doctype, pluck="name", filters=[["name", "in", sorted(names)],
                                                                   [rule["field"], "=", rule.get("value", 1)]],
                                   limit_page_length=0):
            out[(doctype, name)] = rule
    return out


def link_targets(meta, values):
    """(doctype, name) pairs that the Link and Dynamic Link fields of ``values`` (dicts
    of one document or row each) point at."""
    pairs = []
    for row in values:
        for df in meta.fields:
            value = row.get(df.fieldname)
            if not value:
                continue
            target = link_target(df, row)
            if target:
                pairs.append((target, value))
    return pairs
