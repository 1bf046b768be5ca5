// Progressive enhancement only: the group form works without this file
// (its Search button asks the server). With it, the Okta group choices
// follow what is typed into the search box.
(function () {
  var input = document.querySelector("input[data-okta-search]");
  var box = document.getElementById("okta-choices");
  if (!input || !box || !window.fetch) return;
  var timer = null, seq = 0;
  function selected() {
    var checked = document.querySelector("input[name=okta]:checked");
    return checked ? checked.value : "";
  }
  function search() {
    var mine = ++seq;
    var url = input.getAttribute("data-okta-search") +
      "?q=" + encodeURIComponent(input.value) + "&okta=" + encodeURIComponent(selected());
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (res) { return res.ok ? res.text() : null; })
      .then(function (html) {
        if (html === null || mine !== seq) return;
        var tmp = document.createElement("div");
        tmp.innerHTML = html;
        var fresh = tmp.querySelector("#okta-choices");
        if (fresh) box.innerHTML = fresh.innerHTML;
      })
      .catch(function () { /* the Search button still works */ });
  }
  input.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(search, 200);
  });
  // Enter in the search box searches here instead of reloading the page.
  input.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter") { ev.preventDefault(); clearTimeout(timer); search(); }
  });
})();
