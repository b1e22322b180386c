// Live desk over the realtime service (lowcode/realtime/server.py, Frappe's Socket.IO
// protocol): `lowcode.realtime.on(event, fn)` for any page or app script; lists refresh
// when their DocType changes, an open form says when someone else changed it, the
// notification bell updates, and incoming calls pop up (screen_pop). Everything users
// or callers typed is put in the page with textContent, never as HTML.
(function () {
  "use strict";
  const config = document.getElementById("realtime");
  const handlers = {};
  const subscriptions = [];
  let socket = null;

  const api = {
    on(event, fn) { (handlers[event] = handlers[event] || []).push(fn); return fn; },
    off(event, fn) { handlers[event] = (handlers[event] || []).filter((f) => f !== fn); },
    // Frappe's client events; kept, so they are sent again after a reconnection.
    subscribe(event, ...args) {
      subscriptions.push([event, ...args]);
      if (socket && socket.connected) socket.emit(event, ...args);
    },
    get connected() { return !!(socket && socket.connected); },
  };
  window.lowcode = window.lowcode || {};
  window.lowcode.realtime = api;
  if (!config || typeof window.io !== "function") return;

  const text = (key) => config.dataset[key] || "";
  const me = config.dataset.user;
  const scheme = window.location.protocol === "https:" ? "https" : "http";
  socket = window.io(`${scheme}://${window.location.hostname}:${config.dataset.port}/${config.dataset.site}`, {
    withCredentials: true, transports: ["websocket"], reconnectionDelayMax: 30000,
  });
  socket.on("connect", () => {
    document.body.dataset.realtime = "connected";
    subscriptions.forEach((s) => socket.emit(...s));
  });
  socket.on("disconnect", () => { document.body.dataset.realtime = "disconnected"; });
  socket.onAny((event, data) => {
    (handlers[event] || []).forEach((fn) => {
      try { fn(data); } catch (e) { console.error("realtime handler for", event, e); }
    });
  });

  // Only our own pages: a relative path, never another origin or a javascript: URL.
  const safePath = (url) => (typeof url === "string" && /^\/(?!\/)/.test(url) ? url : null);

  // -- lists ---------------------------------------------------------------------------------
  const list = document.getElementById("list-results");
  if (list && list.dataset.doctype && window.htmx) {
    let timer = null;
    const refresh = () => {
      timer = null;
      // Do not throw away rows someone is ticking for a bulk action: try again later.
      if (list.querySelector('input[name="names"]:checked')) { timer = setTimeout(refresh, 5000); return; }
      window.htmx.ajax("GET", window.location.pathname + window.location.search, { target: "#list-results" });
    };
    api.subscribe("doctype_subscribe", list.dataset.doctype);
    api.on("list_update", (data) => {
      if (data && data.doctype === list.dataset.doctype && !timer) timer = setTimeout(refresh, 700);
    });
  }

  // -- forms ---------------------------------------------------------------------------------
  const form = document.getElementById("doc-form");
  if (form && form.dataset.name && form.dataset.name !== "new") {
    api.subscribe("doc_subscribe", form.dataset.doctype, form.dataset.name);
    api.on("doc_update", (data) => {
      if (!data || data.doctype !== form.dataset.doctype || data.name !== form.dataset.name) return;
      const shown = form.querySelector('input[name="modified"]');
      if (data.user === me || (shown && shown.value === data.modified)) return;
      let note = document.getElementById("doc-changed");
      if (!note) {
        note = document.createElement("div");
        note.id = "doc-changed";
        note.className = "alert alert-warning d-flex align-items-center gap-2";
        note.setAttribute("role", "alert");
        const message = document.createElement("span");
        message.className = "me-auto";
        const reload = document.createElement("button");
        reload.type = "button";
        reload.className = "btn btn-sm btn-warning";
        reload.textContent = text("reload");
        reload.addEventListener("click", () => window.location.reload());
        note.append(message, reload);
        form.prepend(note);
      }
      note.firstChild.textContent = text("changedBy").replace("{user}", data.user || "");
    });
  }

  // -- notifications -------------------------------------------------------------------------
  api.on("notification", () => {
    if (window.htmx && document.getElementById("notification-area")) {
      window.htmx.ajax("GET", "/app/__notifications", { target: "#notification-area" });
    }
  });

  // Frappe's msgprint to one user: a dismissible message at the top of the page.
  api.on("msgprint", (data) => {
    const message = typeof data === "string" ? data : data && data.message;
    const main = document.getElementById("main");
    if (typeof message !== "string" || !main) return;
    const box = document.createElement("div");
    box.className = "alert alert-info alert-dismissible realtime-msgprint";
    box.setAttribute("role", "status");
    box.textContent = message;
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", text("close"));
    close.addEventListener("click", () => box.remove());
    box.append(close);
    main.prepend(box);
  });

  // -- screen pop ----------------------------------------------------------------------------
  const STATUS = { Ringing: "ringing", Answered: "answered", Ended: "ended" };
  let pops = null;

  function link(href, label, className) {
    const a = document.createElement("a");
    a.href = href;
    a.className = className;
    a.dir = "auto";  // a Latin name in a Persian page (or the reverse) keeps its own direction
    a.textContent = label;
    return a;
  }

  function showPop(data) {
    if (!data || !data.call_id) return;
    if (!pops) {
      pops = document.createElement("div");
      pops.id = "screen-pops";
      // end-0 is the left edge in right-to-left pages (Bootstrap's RTL build).
      pops.className = "position-fixed bottom-0 end-0 p-3 d-flex flex-column gap-2";
      pops.style.zIndex = "1080";
      pops.setAttribute("aria-live", "assertive");
      document.body.append(pops);
    }
    let pop = [...pops.children].find((el) => el.dataset.callId === String(data.call_id));
    if (!pop) {
      pop = document.createElement("div");
      pop.className = "card shadow screen-pop";
      pop.style.width = "min(22rem, 92vw)";
      pop.setAttribute("role", "alertdialog");
      pop.dataset.callId = String(data.call_id);
      pops.append(pop);
    }
    pop.dataset.status = data.status || "Ringing";
    pop.replaceChildren();
    const body = document.createElement("div");
    body.className = "card-body";
    const head = document.createElement("div");
    head.className = "d-flex align-items-center gap-2 mb-2";
    const title = document.createElement("strong");
    title.className = "me-auto screen-pop-status";
    title.textContent = text(STATUS[data.status] || "ringing");
    const close = document.createElement("button");
    close.type = "button";
    close.className = "btn-close";
    close.setAttribute("aria-label", text("close"));
    close.addEventListener("click", () => pop.remove());
    head.append(title, close);
    // A phone number reads left to right inside Persian or Hebrew text.
    const number = document.createElement("bdi");
    number.dir = "ltr";
    number.className = "d-block fs-5 mb-2 screen-pop-number";
    number.textContent = data.display_number || data.number || "";
    body.append(head, number);
    const actions = document.createElement("div");
    actions.className = "d-flex flex-wrap gap-2";
    const matches = Array.isArray(data.matches) ? data.matches : [];
    matches.forEach((m) => {
      const href = safePath(m && m.url);
      if (href) actions.append(link(href, `${m.title || m.name} · ${m.doctype_label || m.doctype}`, "btn btn-sm btn-primary screen-pop-match"));
    });
    const lead = safePath(data.new_lead_url);
    if (!matches.length && lead) actions.append(link(lead, text("newLead"), "btn btn-sm btn-success screen-pop-new-lead"));
    const log = safePath(data.call_log_url);
    if (log) actions.append(link(log, text("callLog"), "btn btn-sm btn-outline-secondary"));
    body.append(actions);
    pop.append(body);
    if (data.status === "Ended") {
      pop.style.transition = "opacity 2s";
      setTimeout(() => { pop.style.opacity = "0"; }, 3000);
      setTimeout(() => pop.remove(), 5000);
    }
  }
  api.on("screen_pop", showPop);
})();
