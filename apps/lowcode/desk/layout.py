"""A DocType's form layout from its fields: tabs, sections and columns, as the Tab,
Section and Column Breaks in the field order say."""
from ..fields import registry


def form_layout(meta):
    """[{label, sections: [{label, collapsible, columns: [[df, ...]]}]}]"""
    tabs = [{"label": None, "sections": []}]

    def new_section(df=None):
        section = {"label": df.label if df else None, "collapsible": bool(df and df.collapsible),
                   "depends_on": df.depends_on if df else None, "columns": [[]]}
        tabs[-1]["sections"].append(section)
        return section

    section = new_section()
    for df in meta.fields:
        starts = starts_of(df.fieldtype)
        if starts == "tab":
            tabs.append({"label": df.label, "sections": []})
            section = new_section()
        elif starts == "section":
            section = new_section(df)
        elif starts == "column":
            section["columns"].append([])
        elif not df.hidden:
            section["columns"][-1].append(df)
    for tab in tabs:
        tab["sections"] = [s for s in tab["sections"] if any(s["columns"])]
    return [t for t in tabs if t["sections"]]


def starts_of(fieldtype):
    """What a field of this type starts on the form: "tab", "section", "column" (a
    break's ``starts``) or None."""
    ftype = registry.get(fieldtype)
    return ftype.starts if ftype is not None else None


def stores_value(df):
    ftype = registry.get(df.fieldtype)
    return ftype is not None and (ftype.column is not None or ftype.table)
