// Drives the published frappe-js-sdk (npm) against a running server, the way an app
// built on it would, and prints one JSON object of what each call answered; the Python
// test (test_frappe_clients.py) asserts on it. Arguments: one JSON object with url,
// host (the site's name, sent as the Host header), user, password, key, secret, tag.
//
// The SDK is written for browsers, which keep the session cookie themselves; under node
// a two-line cookie jar on the SDK's own axios instance plays the browser's part.
const { FrappeApp } = require("frappe-js-sdk");

const args = JSON.parse(process.argv[2]);
const out = {};

function keepCookies(app) {
  let sid = null;
  app.axios.interceptors.request.use((config) => {
    if (sid) config.headers.Cookie = `sid=${sid}`;
    return config;
  });
  const remember = (response) => {
    for (const c of response.headers["set-cookie"] || []) {
      const m = /^sid=([^;]*)/.exec(c);
      if (m) sid = m[1] && m[1] !== '""' ? m[1] : null;
    }
    return response;
  };
  app.axios.interceptors.response.use(remember, (error) => {
    if (error.response) remember(error.response);
    return Promise.reject(error);
  });
}

async function failure(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return { httpStatus: e.httpStatus, exc_type: e.exc_type, message: e.message };
  }
}

async function main() {
  const headers = { Host: args.host };
  const app = new FrappeApp(args.url, undefined, "sdk", headers);
  keepCookies(app);
  const auth = app.auth();
  const db = app.db();

  out.guest = await failure(auth.getLoggedInUser());
  out.login = await auth.loginWithUsernamePassword({ username: args.user, password: args.password });
  out.loggedUser = await auth.getLoggedInUser();

  const lead = await db.createDoc("Lead", { first_name: `Sdk ${args.tag}`, email_id: `sdk-${args.tag}@example.com` });
  out.created = { name: lead.name, first_name: lead.first_name };
  out.listed = await db.getDocList("Lead", {
    fields: ["name", "first_name"],
    filters: [["email_id", "=", `sdk-${args.tag}@example.com`]],
    orderBy: { field: "creation", order: "desc" },
    limit: 5,
  });
  out.updated = (await db.updateDoc("Lead", lead.name, { job_title: "Buyer" })).job_title;
  out.fetched = (await db.getDoc("Lead", lead.name)).job_title;
  out.count = await db.getCount("Lead", [["email_id", "=", `sdk-${args.tag}@example.com`]]);
  out.value = (await db.getValue("Lead", ["first_name"], [["name", "=", lead.name]])).message;

  const call = app.call();
  out.ping = (await call.get("ping")).message;
  out.called = (await call.get("frappe.client.get_count", { doctype: "Lead",
    filters: { email_id: `sdk-${args.tag}@example.com` } })).message;

  const file = new File([Buffer.from(`notes of ${args.tag}`)], `sdk-${args.tag}.txt`, { type: "text/plain" });
  const uploaded = await app.file().uploadFile(file, { isPrivate: true, doctype: "Lead", docname: lead.name });
  out.uploaded = { file_url: uploaded.data.message.file_url, attached_to_name: uploaded.data.message.attached_to_name };

  const download = async () => (await app.axios.get(out.uploaded.file_url, { validateStatus: () => true })).status;
  out.downloadBefore = await download();
  out.deleted = await db.deleteDoc("Lead", lead.name);
  out.missing = await failure(db.getDoc("Lead", lead.name));
  out.downloadAfter = await download(); // the attachment went with the Lead
  await auth.logout();
  out.afterLogout = await failure(auth.getLoggedInUser());

  // Token auth: "token key:secret", as the SDK sends it with useToken
  const tokenApp = new FrappeApp(args.url, { useToken: true, type: "token", token: () => `${args.key}:${args.secret}` },
    "sdk-token", headers);
  out.tokenUser = await tokenApp.auth().getLoggedInUser();
  out.tokenCount = await tokenApp.db().getCount("Lead", [["email_id", "=", `sdk-${args.tag}@example.com`]]);
  const badToken = new FrappeApp(args.url, { useToken: true, type: "token", token: () => `${args.key}:wrong` },
    "sdk-bad", headers);
  out.badToken = await failure(badToken.auth().getLoggedInUser());
}

main().then(
  () => process.stdout.write(JSON.stringify(out)),
  (e) => {
    process.stdout.write(JSON.stringify({ ...out, error: e && (e.message || String(e)), httpStatus: e && e.httpStatus,
      exc_type: e && e.exc_type }));
    process.exitCode = 1;
  },
);
