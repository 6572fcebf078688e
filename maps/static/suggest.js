/* Suggestions while typing in every search box (name="q"): municipalities, zones and associations
 * from /api/v1/search, offered in a <datalist> (a native list: keyboard and screen readers work
 * as with any input). Choosing one and pressing Enter searches it, which opens its page directly.
 * No inline script (CSP); the text is set as text, never as HTML. */
(function () {
  "use strict";
  var KINDS = { municipality: "gemeente", zone: "zone", association: "samenwerkingsverband" };

  function attach(input, n) {
    var list = document.createElement("datalist");
    list.id = "rm-suggest-" + n;
    input.setAttribute("list", list.id);
    input.setAttribute("autocomplete", "off");
    input.parentNode.insertBefore(list, input.nextSibling);
    var timer = null, asked = "";
    input.addEventListener("input", function () {
      var q = input.value.trim();
      window.clearTimeout(timer);
      if (q.length < 2 || q === asked) { return; }
      timer = window.setTimeout(function () {
        asked = q;
        fetch("/api/v1/search?limit=8&q=" + encodeURIComponent(q)).then(function (r) { return r.ok ? r.json() : []; })
          .then(function (hits) {
            if (input.value.trim() !== q) { return; }  // the user typed on: a newer answer follows
            list.textContent = "";
            var seen = {};
            hits.forEach(function (h) {
              if (seen[h.name]) { return; }
              seen[h.name] = true;
              var option = document.createElement("option");
              option.value = h.name;
              option.label = h.kind === "municipality" ? "gemeente, NIS " + h.nis_code : (KINDS[h.kind] || "zone") + (h.code ? " " + h.code : "");
              list.appendChild(option);
            });
            document.body.setAttribute("data-suggested", q);
          }).catch(function () { /* no suggestions: the search itself still works */ });
      }, 150);
    });
  }

  function boot() {
    Array.prototype.forEach.call(document.querySelectorAll("input[type=search][name=q]"), attach);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", boot); } else { boot(); }
}());
