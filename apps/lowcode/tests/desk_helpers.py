"""Helpers for the desk report, bulk and dashboard tests: users with roles, logged-in
test clients, and committing so HTTP requests see the data."""
import lowcode
from lowcode.testing.http import login, refresh as commit  # noqa: F401 - the desk tests import them from here


def ensure_role(role):
    if not lowcode.db.exists("Role", role):
        lowcode.get_doc({"doctype": "Role", "role_name": role}).insert(ignore_permissions=True)


def team_doctype(make_doctype, writer_role, reader_role):
    """A DocType with a title that ``writer_role`` may read, write, create and share,
    ``reader_role`` only read (and System Manager everything)."""
    for role in (writer_role, reader_role):
        ensure_role(role)
    return make_doctype([{"fieldname": "title", "fieldtype": "Data", "label": "Title"}], permissions=[
        {"role": "System Manager", "read": 1, "write": 1, "create": 1, "delete": 1, "share": 1},
        {"role": writer_role, "read": 1, "write": 1, "create": 1, "share": 1},
        {"role": reader_role, "read": 1},
    ], title_field="title")


def make_user(unique, tag, roles):
    email = f"{tag}-{unique}@example.com"
    for role in roles:
        ensure_role(role)
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": tag.title(),
                     "roles": [{"role": r} for r in roles]}).insert()
    return email


def as_user(user):
    """Run engine calls as ``user`` (a context manager)."""
    import contextlib

    @contextlib.contextmanager
    def run():
        previous = lowcode.local.user
        lowcode.set_user(user)
        try:
            yield
        finally:
            lowcode.set_user(previous)
    return run()


def table_rows(html, table_id):
    """The text of each body row's cells of the table with ``table_id``."""
    from html.parser import HTMLParser

    class Parser(HTMLParser):
        def __init__(self):
            super().__init__()
            self.depth = 0          # >0 inside the wanted table
            self.in_body = False
            self.rows, self.cell = [], None

        def handle_starttag(self, tag, attrs):
            attrs = dict(attrs)
            if tag == "table" and (self.depth or attrs.get("id") == table_id):
                self.depth += 1
            elif self.depth and tag == "tbody":
                self.in_body = True
            elif self.depth and self.in_body and tag == "tr":
                self.rows.append([])
            elif self.depth and self.in_body and tag in ("td", "th"):
                self.cell = []

        def handle_endtag(self, tag):
            if tag == "table" and self.depth:
                self.depth -= 1
            elif self.depth and tag == "tbody":
                self.in_body = False
            elif self.depth and tag in ("td", "th") and self.cell is not None:
                self.rows[-1].append(" ".join("".join(self.cell).split()))
                self.cell = None

        def handle_data(self, data):
            if self.cell is not None:
                self.cell.append(data)

    p = Parser()
    p.feed(html)
    return p.rows
