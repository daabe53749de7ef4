/* Short polling for the meeting room: the chair's tallies update in place; a member's
   screen reloads only when what it shows changes (a vote opens or closes, the meeting
   closes), never on other members' votes. No dependencies, no build step. */
(function () {
  "use strict";
  var root = document.querySelector("[data-live]");
  if (!root || !window.fetch) { return; }
  var url = root.getAttribute("data-live");
  var mode = root.getAttribute("data-mode");
  var key = root.getAttribute("data-key");
  var every = (parseFloat(root.getAttribute("data-every")) || 2) * 1000;
  var timer = null;

  function setText(id, value) {
    var el = document.getElementById(id);
    if (el && value !== undefined && el.textContent !== String(value)) {
      el.textContent = String(value);
    }
  }

  function apply(data) {
    if (mode === "member") {
      if (data.key !== key) { window.location.reload(); }
      return;
    }
    data.items.forEach(function (item) {
      ["for", "against", "abstain", "voted"].forEach(function (k) {
        setText("tally-" + item.concern_id + "-" + k, item.tally[k]);
      });
    });
    if (data.status !== "open") { window.location.reload(); }
  }

  function tick() {
    fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (data) { if (data) { apply(data); } })
      .catch(function () { /* offline for a moment: try again next time */ })
      .then(function () { timer = window.setTimeout(tick, every); });
  }

  document.addEventListener("visibilitychange", function () {
    window.clearTimeout(timer);
    if (!document.hidden) { tick(); }
  });
  timer = window.setTimeout(tick, every);
})();
