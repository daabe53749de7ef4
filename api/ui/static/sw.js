// The service worker: pages and files of the record form kept for when there is no signal.
// Network first (always the latest page when online), the cached copy when offline.
var CACHE = "minqing-ui-v1";
var KEPT = ["/ui/record", "/ui/outbox", "/ui/static/ui.css", "/ui/static/offline.js",
            "/ui/static/manifest.webmanifest", "/ui/static/locate.js"];

self.addEventListener("install", function (event) {
  event.waitUntil(caches.open(CACHE).then(function (cache) {
    return Promise.all(KEPT.map(function (url) {
      return cache.add(new Request(url, { credentials: "same-origin" })).catch(function () {});
    }));
  }));
  self.skipWaiting();
});

self.addEventListener("activate", function (event) {
  event.waitUntil(self.clients.claim());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== location.origin) return;
  var path = url.pathname;
  if (KEPT.indexOf(path) < 0) return;
  event.respondWith(fetch(request).then(function (response) {
    if (response.ok) {
      var copy = response.clone();
      caches.open(CACHE).then(function (cache) { cache.put(path, copy); });
    }
    return response;
  }, function () {
    return caches.match(path);
  }));
});
