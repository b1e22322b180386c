"""Website Users (portal logins) are kept out of the desk and the generic API, whatever
DocPerms the automatic role "All" carries; System Users are not affected."""
import lowcode
from lowcode.utils import generate_hash

from .desk_helpers import commit, login


def website_user(unique, roles=()):
    email = f"web-{unique}-{generate_hash(6)}@example.com"
    lowcode.get_doc({"doctype": "User", "email": email, "first_name": "Web", "user_type": "Website User",
                     "roles": [{"role": r} for r in roles]}).insert(ignore_permissions=True)
    return email.lower()


def test_a_website_user_without_a_home_page_is_refused_not_redirected(ctx, client, unique):
    user = website_user(unique)
    login(ctx, client, user)
    for path in ("/app", "/app/user", "/printview?doctype=User&name=Administrator"):
        assert client.get(path).status_code == 403, path  # no redirect loop through "/"
    for path in ("/api/resource/User", "/api/resource/Comment", f"/api/resource/User/{user}",
                 "/api/method/frappe.client.get_list?doctype=File", "/api/method/lowcode.jobs.retry"):
        assert client.get(path).status_code == 403, path
    me = client.get("/api/method/frappe.auth.get_logged_user")
    assert me.status_code == 200 and me.json()["message"] == user


def test_turning_a_system_user_into_a_website_user_closes_the_desk_at_once(ctx, client, unique):
    user = website_user(unique)
    lowcode.set_value("User", user, "user_type", "System User")
    login(ctx, client, user)
    assert client.get("/app").status_code == 200
    ctx.db.commit()
    lowcode.set_value("User", user, "user_type", "Website User")
    commit(ctx)
    assert client.get("/app").status_code == 403
