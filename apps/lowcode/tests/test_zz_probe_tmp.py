import json, lowcode, time
from lowcode import auth

def test_probe(ctx, client, unique, make_doctype, site):
    t=time.time()
    email = f"u{unique}@example.com"
    lowcode.get_doc({"doctype":"User","email":email,"first_name":"U","roles":[{"role":"System Manager"}]}).insert()
    auth.set_password(email, "pw123456")
    dt = make_doctype([{"fieldname":"title","fieldtype":"Data","label":"Title"},{"fieldname":"qty","fieldtype":"Int"}])
    pass
    r = client.post("/api/method/login", {"usr": email, "pwd": "pw123456"})
    print(r.status_code, r.content, r.cookies)
    r = client.post(f"/api/resource/{dt}", json.dumps({"title":"x","qty":3}), content_type="application/json")
    print(r.status_code, r.content)
    r = client.get(f"/api/resource/{dt}", {"fields": json.dumps(["name","title"])})
    print(r.status_code, r.content)
    print("time", time.time()-t)
