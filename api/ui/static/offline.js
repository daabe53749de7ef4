// Working without signal (docs/web-ui.md): the record form keeps a draft on the phone, and
// a form sent while offline waits in IndexedDB with an Idempotency-Key, to be sent when the
// network returns; /ui/outbox lists what waits and what was refused, and why.
(function () {
  "use strict";
  var DB = "minqing-outbox", STORE = "forms", DRAFT = "minqing-record-draft";

  function open() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "key" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function tx(mode, work) {
    return open().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(STORE, mode), result;
        result = work(t.objectStore(STORE));
        t.oncomplete = function () { resolve(result && "result" in result ? result.result : undefined); };
        t.onerror = function () { reject(t.error); };
      });
    });
  }
  function all() { return tx("readonly", function (s) { return s.getAll(); }); }
  function put(item) { return tx("readwrite", function (s) { s.put(item); }); }
  function remove(key) { return tx("readwrite", function (s) { s.delete(key); }); }
  function newKey() {
    return (crypto.randomUUID ? crypto.randomUUID() : String(Date.now()) + Math.random());
  }

  // -- the draft ----------------------------------------------------------------------------
  var form = document.querySelector("form[data-offline]");
  function saveDraft() {
    var kept = {};
    form.querySelectorAll("input, select, textarea").forEach(function (el) {
      if (!el.name || el.type === "file" || el.type === "hidden" || el.type === "submit") return;
      kept[el.name] = el.type === "checkbox" ? el.checked : el.value;
    });
    localStorage.setItem(DRAFT, JSON.stringify(kept));
  }
  function restoreDraft() {
    var kept = JSON.parse(localStorage.getItem(DRAFT) || "null");
    if (!kept || form.querySelector("[aria-invalid]")) return;  // a refused form shows what was sent
    Object.keys(kept).forEach(function (name) {
      var el = form.elements.namedItem(name);
      if (!el || el.type === "file") return;
      if (el.type === "checkbox") { el.checked = kept[name]; } else { el.value = kept[name]; }
    });
    var note = document.getElementById("draft-restored");
    if (note) note.hidden = false;
  }

  function say(id) {
    var el = document.getElementById(id);
    if (el) { el.hidden = false; el.focus(); }
  }

  // -- sending ------------------------------------------------------------------------------
  function reason(html) {
    var doc = new DOMParser().parseFromString(html, "text/html");
    var errors = doc.querySelector(".errors") || doc.querySelector("main");
    return errors ? errors.textContent.replace(/\s+/g, " ").trim() : "";
  }
  function send(item) {
    var body = new FormData();
    item.fields.forEach(function (pair) {
      // A file keeps its name; text goes without one (a third argument means a Blob).
      if (pair[2]) { body.append(pair[0], pair[1], pair[2]); } else { body.append(pair[0], pair[1]); }
    });
    return fetch(item.action, {
      method: "POST", body: body, credentials: "same-origin", redirect: "manual",
      headers: { "Idempotency-Key": item.key }
    }).then(function (response) {
      if (response.type === "opaqueredirect" || (response.status >= 300 && response.status < 400)) {
        return remove(item.key);
      }
      return response.text().then(function (html) {
        item.state = "refused";
        item.status = response.status;
        item.reason = reason(html);
        return put(item);
      });
    }, function () { /* still offline: it waits */ });
  }
  function flush() {
    if (!navigator.onLine) return Promise.resolve();
    return all().then(function (items) {
      return items.filter(function (i) { return i.state === "waiting"; })
        .reduce(function (done, item) { return done.then(function () { return send(item); }); },
                Promise.resolve());
    }).then(render);
  }

  // -- the outbox page ----------------------------------------------------------------------
  function render() {
    var list = document.getElementById("outbox-list");
    if (!list) return Promise.resolve();
    return all().then(function (items) {
      list.textContent = "";
      items.forEach(function (item) {
        var li = document.createElement("li");
        li.dataset.state = item.state;
        var title = item.fields.filter(function (p) { return /title$/.test(p[0]); })
          .map(function (p) { return p[1]; }).join("、") || item.fields.length;
        var word = document.getElementById(item.state === "refused" ? "word-refused" : "word-waiting");
        li.textContent = (word ? word.textContent : item.state) + " — " + title +
          " (" + new Date(item.at).toLocaleString() + ")";
        if (item.reason) {
          var why = document.createElement("p");
          why.className = "reason";
          why.textContent = item.reason;
          li.appendChild(why);
        }
        if (item.state === "refused") {
          var drop = document.createElement("button");
          drop.type = "button";
          drop.textContent = (document.getElementById("word-drop") || {}).textContent || "x";
          drop.addEventListener("click", function () { remove(item.key).then(render); });
          li.appendChild(drop);
        }
        list.appendChild(li);
      });
      var empty = document.getElementById("outbox-empty");
      if (empty) empty.hidden = items.length > 0;
    });
  }

  if (form) {
    restoreDraft();
    form.addEventListener("input", saveDraft);
    form.addEventListener("change", saveDraft);
    form.addEventListener("submit", function (event) {
      var submitter = event.submitter;
      if (submitter && submitter.value === "add") return;  // one more section: online only
      if (submitter && submitter.name === "join") return;  // joining a concern: online only
      if (navigator.onLine) { localStorage.removeItem(DRAFT); return; }
      event.preventDefault();
      var fields = [];
      new FormData(form).forEach(function (value, name) {
        if (value instanceof File) {
          if (value.name) fields.push([name, value, value.name]);
        } else {
          fields.push([name, value]);
        }
      });
      fields.push(["action", "save"]);
      put({ key: newKey(), action: form.getAttribute("action"), fields: fields,
            state: "waiting", at: Date.now() }).then(function () {
        localStorage.removeItem(DRAFT);
        form.reset();
        say("queued");
      });
    });
  }
  if (document.querySelector("[data-draft-done]")) localStorage.removeItem(DRAFT);
  window.addEventListener("online", flush);
  // Signal can come back without an "online" event (a phone between cells): try now and then.
  setInterval(flush, 15000);
  if ("serviceWorker" in navigator) {
    navigator.serviceWorker.register("/ui/sw.js", { scope: "/ui/" }).catch(function () {});
  }
  flush();
  render();
}());
