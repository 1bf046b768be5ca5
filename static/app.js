// Progressive enhancement only: every page works without this file.
//  - Live countdowns: <time data-countdown datetime="RFC3339">.
//  - Moments: every other <time datetime="RFC3339"> is shown in the
//    viewer's time zone with a relative time ("in 42 min", "3 h ago");
//    its title keeps UTC.
//  - Pages that show something in motion (a pending request, a grant being
//    applied or removed, a countdown, an approver's inbox, [data-live])
//    poll their own URL every few seconds and
//    replace <main> when what it shows has changed, unless the viewer is
//    filling in a form on it.
(function () {
  "use strict";

  // Countdowns, in the format the server renders them.
  function left(ms) {
    if (ms <= 0) return "expired";
    var s = Math.floor(ms / 1000), h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60);
    s = s % 60;
    if (h > 0) return h + "h " + m + "m left";
    if (m > 0) return m + "m " + s + "s left";
    return s + "s left";
  }
  var expiredSeen = false;
  function tickCountdowns() {
    document.querySelectorAll("time[data-countdown]").forEach(function (el) {
      var ms = Date.parse(el.getAttribute("datetime")) - Date.now();
      var text = left(ms);
      if (text === "expired" && el.textContent !== "expired") expiredSeen = true;
      el.textContent = text;
    });
  }

  // Relative times: "just now", "in 42 min", "3 h ago", "in 2 d".
  function relative(ms) {
    var a = Math.abs(ms), n, unit;
    if (a < 45000) return "just now";
    if (a < 90 * 60000) { n = Math.round(a / 60000); unit = "min"; }
    else if (a < 36 * 3600000) { n = Math.round(a / 3600000); unit = "h"; }
    else { n = Math.round(a / 86400000); unit = "d"; }
    return ms > 0 ? "in " + n + " " + unit : n + " " + unit + " ago";
  }
  var local = null;
  try {
    local = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  } catch (e) { /* old browsers keep the UTC text */ }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function utcText(d) {
    return d.getUTCFullYear() + "-" + pad(d.getUTCMonth() + 1) + "-" + pad(d.getUTCDate()) + " " +
      pad(d.getUTCHours()) + ":" + pad(d.getUTCMinutes()) + ":" + pad(d.getUTCSeconds()) + " UTC";
  }
  function showMoments() {
    if (!local) return;
    document.querySelectorAll("time[datetime]:not([data-countdown])").forEach(function (el) {
      var t = Date.parse(el.getAttribute("datetime"));
      if (isNaN(t)) return;
      var d = new Date(t);
      if (!el.hasAttribute("data-utc")) {
        el.setAttribute("data-utc", el.textContent);
        el.title = utcText(d);
      }
      el.textContent = local.format(d) + " (" + relative(t - Date.now()) + ")";
    });
  }

  // Live pages.
  var main = document.querySelector("main");
  var touched = false;
  function inMotion() {
    return !!main && !!main.querySelector("[data-live], .badge.warn, article.decide, time[data-countdown]");
  }
  function quick() {
    return !!main && !!main.querySelector("[data-live], .badge.warn, article.decide");
  }
  // fingerprint is what a <main> shows, without what changes on its own
  // (countdowns, moments, flash messages).
  function fingerprint(m) {
    var c = m.cloneNode(true);
    c.querySelectorAll(".banner[role=status]").forEach(function (b) { b.remove(); });
    c.querySelectorAll("time").forEach(function (t) { t.textContent = ""; t.removeAttribute("data-utc"); t.removeAttribute("title"); });
    c.querySelectorAll("[data-volatile]").forEach(function (t) { t.textContent = ""; });
    return c.innerHTML;
  }
  function busy() {
    if (touched) return true;
    var a = document.activeElement;
    if (a && main.contains(a) && /^(INPUT|TEXTAREA|SELECT)$/.test(a.tagName)) return true;
    return Array.prototype.some.call(main.querySelectorAll("input, textarea, select"), function (f) {
      if (f.tagName === "SELECT") {
        return Array.prototype.some.call(f.options, function (o) { return o.selected !== o.defaultSelected; });
      }
      if (f.type === "checkbox" || f.type === "radio") return f.checked !== f.defaultChecked;
      return f.value !== f.defaultValue;
    });
  }
  var shown = main ? fingerprint(main) : "";
  var timer = null;
  function schedule(ms) {
    clearTimeout(timer);
    if (inMotion()) timer = setTimeout(poll, ms !== undefined ? ms : (quick() ? 4000 : 30000));
  }
  function poll() {
    if (document.hidden || busy()) { schedule(); return; }
    fetch(location.href, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) {
        if (!res.ok || res.redirected) return null;
        return res.text();
      })
      .then(function (html) {
        if (html === null) return; // signed out or gone: stop
        var fresh = new DOMParser().parseFromString(html, "text/html").querySelector("main");
        if (!fresh) return;
        var print = fingerprint(fresh);
        if (print !== shown && !busy()) {
          var flashes = main.querySelectorAll(".banner[role=status]");
          main.innerHTML = fresh.innerHTML;
          var first = main.firstChild;
          flashes.forEach(function (b) { main.insertBefore(b, first); });
          shown = print;
          enhance();
        }
        schedule();
      })
      .catch(function () { schedule(30000); });
  }
  // Opening a <details> (a confirmation, a preview) is work in progress.
  document.addEventListener("click", function (ev) {
    var s = ev.target.closest && ev.target.closest("summary");
    if (s && main && main.contains(s)) touched = true;
  });
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden) schedule(0);
  });

  // Column headings as labels of the cells, for tables stacked on phones.
  function labelCells() {
    document.querySelectorAll("table").forEach(function (table) {
      var heads = table.querySelectorAll("thead th");
      if (!heads.length) return;
      var names = Array.prototype.map.call(heads, function (th) { return th.textContent.trim(); });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        var i = 0;
        Array.prototype.forEach.call(tr.children, function (cell) {
          var span = cell.colSpan || 1;
          if (cell.tagName === "TD" && span === 1 && names[i]) cell.setAttribute("data-label", names[i]);
          i += span;
        });
      });
    });
  }

  function enhance() {
    labelCells();
    tickCountdowns();
    showMoments();
  }
  enhance();
  setInterval(function () {
    expiredSeen = false;
    tickCountdowns();
    if (expiredSeen) schedule(1000);
  }, 1000);
  setInterval(showMoments, 30000);
  if (main && window.fetch && window.DOMParser) schedule();
})();
