/* Short polling for the meeting room: the chair's tallies and not-yet-voted list update in
   place; the projector's tally too, and it reloads when the item, its status or the count
   present changes; a member's screen reloads only when what it shows changes (the meeting
   opens or closes, a vote opens or closes, the member is marked present), never on other
   members' votes. No dependencies, no build step. */
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

  // The chair's roll: who has not voted yet leaves the list and the show-of-hands choice
  // as soon as their vote is in.
  function setCount(name, value) {
    var el = document.querySelector("[data-count='" + name + "']");
    if (el && value !== undefined) { el.textContent = String(value); }
  }

  function prune(item) {
    setCount("voted-" + item.concern_id, item.tally.voted);
    if (!item.not_yet) { return; }
    setCount("not-yet-" + item.concern_id, item.not_yet.length);
    var waiting = {};
    item.not_yet.forEach(function (m) { waiting[m] = true; });
    var gone = document.querySelectorAll(
      "#not-yet-" + item.concern_id + " [data-member], select[data-not-yet='" +
      item.concern_id + "'] [data-member]");
    Array.prototype.forEach.call(gone, function (el) {
      if (!waiting[el.getAttribute("data-member")]) { el.parentNode.removeChild(el); }
    });
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
      prune(item);
    });
    if (mode === "projector") {
      if (data.key !== key || String(data.present) !== root.getAttribute("data-present")) {
        window.location.reload();
      }
      return;
    }
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
