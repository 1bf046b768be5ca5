// Progressive enhancement only: every page works without this file.
// Live countdowns: <time data-countdown datetime="RFC3339">.
(function () {
  function fmt(ms) {
    if (ms <= 0) return "expired";
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    if (h > 0) return h + "h " + m + "m left";
    if (m > 0) return m + "m " + s + "s left";
    return s + "s left";
  }
  function tick() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      el.textContent = fmt(Date.parse(el.getAttribute("datetime")) - Date.now());
    });
  }
  if (document.querySelector("time[data-countdown]")) {
    tick();
    setInterval(tick, 1000);
  }
})();
