// The waiting page asks the bank every second or two whether the app has decided, then moves
// on. Without script the page's "I've decided" link does the same.
(function () {
  var waiting = document.getElementById("waiting");
  if (!waiting) { return; }
  var statusUrl = waiting.getAttribute("data-status");
  var next = waiting.getAttribute("data-continue");
  function poll() {
    fetch(statusUrl, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (s) {
        if (s.state === "waiting") { setTimeout(poll, 1500); } else { window.location.assign(next); }
      })
      .catch(function () { setTimeout(poll, 3000); });
  }
  setTimeout(poll, 1000);
})();
