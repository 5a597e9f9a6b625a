// The search page (/search/): Pagefind's default UI on the site's own index (/pagefind/), the
// query folded to simplified script character by character with the table the index was folded
// with (window.NEWSCRAWL_FOLD, /search/fold.js, written by newscrawl/website_search.py), so that
// simplified finds traditional articles and the reverse. /search/?q=… searches at once.
(function () {
  "use strict";
  var box = document.getElementById("search");
  if (!box || typeof window.PagefindUI !== "function") {
    return; // no index built: the page's message stays
  }
  var table = window.NEWSCRAWL_FOLD || {};
  function fold(term) {
    var out = "";
    for (var ch of term) {
      out += Object.prototype.hasOwnProperty.call(table, ch) ? table[ch] : ch;
    }
    return out;
  }
  box.textContent = "";
  var ui = new window.PagefindUI({
    element: "#search",
    bundlePath: box.dataset.bundle,
    baseUrl: box.dataset.base,
    processTerm: fold,
    showImages: false,
    showSubResults: false,
  });
  var query = new URLSearchParams(window.location.search).get("q");
  if (query) {
    ui.triggerSearch(query);
  }
})();
