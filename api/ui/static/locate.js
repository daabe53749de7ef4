// The record form's "use the phone's location" button: progressive enhancement. Without
// script (or without navigator.geolocation) the button stays hidden and the latitude and
// longitude are typed or left blank. The location is read once, only when pressed (the
// collector asks the resident first); the browser gives WGS-84.
(function () {
  "use strict";
  if (!("geolocation" in navigator)) return;
  document.querySelectorAll("button.locate").forEach(function (button) {
    var status = document.getElementById(button.dataset.status);
    button.hidden = false;
    button.addEventListener("click", function () {
      status.textContent = button.dataset.locating;
      navigator.geolocation.getCurrentPosition(
        function (position) {
          document.getElementById(button.dataset.lat).value = position.coords.latitude.toFixed(7);
          document.getElementById(button.dataset.lng).value = position.coords.longitude.toFixed(7);
          document.getElementById(button.dataset.datum).value = "wgs84";
          status.textContent = button.dataset.located.replace(
            "{m}", String(Math.round(position.coords.accuracy)));
        },
        function () { status.textContent = button.dataset.failed; },
        { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 }
      );
    });
  });
})();
