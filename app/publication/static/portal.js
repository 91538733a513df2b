// Progressive enhancement only: every page works without this file.
// On a narrow screen the search filters start folded under their "Filters" button.
document.addEventListener("DOMContentLoaded", function () {
  var filters = document.querySelector("details.facetten");
  if (filters && window.matchMedia("(max-width: 47.99rem)").matches) {
    filters.removeAttribute("open");
  }
});
