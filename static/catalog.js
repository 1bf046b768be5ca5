// Progressive enhancement only: every Okta group picker works without this
// file (its Search button asks the server). With it, each picker's choices
// follow what is typed into its search box, keeping the groups chosen.
(function () {
  if (!window.fetch) return;
  document.querySelectorAll("input[data-okta-search]").forEach(function (input) {
    var field = input.getAttribute("data-okta-field");
    var box = document.getElementById(input.getAttribute("data-okta-box"));
    if (!field || !box) return;
    var timer = null, seq = 0;
    function chosen() {
      var out = [];
      box.querySelectorAll("input:checked").forEach(function (el) { out.push(el.value); });
      return out;
    }
    function search() {
      var mine = ++seq;
      var url = input.getAttribute("data-okta-search") + "?field=" + encodeURIComponent(field) +
        "&q=" + encodeURIComponent(input.value);
      chosen().forEach(function (name) { url += "&okta=" + encodeURIComponent(name); });
      fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
        .then(function (res) { return res.ok ? res.text() : null; })
        .then(function (html) {
          if (html === null || mine !== seq) return;
          var tmp = document.createElement("div");
          tmp.innerHTML = html;
          var fresh = tmp.querySelector("#" + box.id);
          if (fresh) box.innerHTML = fresh.innerHTML;
        })
        .catch(function () { /* the Search button still works */ });
    }
    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(search, 200);
    });
    // Enter in a search box searches here instead of submitting the form.
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(timer); search(); }
    });
  });
})();
