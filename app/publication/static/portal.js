// Progressive enhancement only: every page works without this file.
// On a narrow screen the search filters start folded under their "Filters" button.
document.addEventListener("DOMContentLoaded", function () {
  var filters = document.querySelector("details.facetten");
  if (filters && window.matchMedia("(max-width: 47.99rem)").matches) {
    filters.removeAttribute("open");
  }
});

// On a phone the results start below the search form and the filters: after a search (not when going back,
// where the browser restores the place), show them, with the form one swipe up.
document.addEventListener("DOMContentLoaded", function () {
  var results = document.getElementById("resultaten");
  var navigation = window.performance && performance.getEntriesByType ? performance.getEntriesByType("navigation")[0] : null;
  if (results && location.search && !location.hash && window.matchMedia("(max-width: 47.99rem)").matches &&
      (!navigation || navigation.type === "navigate")) {
    results.scrollIntoView();
  }
});
