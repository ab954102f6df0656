// Instants in the viewer's own time zone and locale, and SLA countdowns that keep counting between updates.
(function () {
  "use strict";
  function span(seconds) {
    var days = Math.floor(seconds / 86400), hours = Math.floor((seconds % 86400) / 3600),
        minutes = Math.floor((seconds % 3600) / 60);
    if (days) { return days + " d " + hours + " h"; }
    return hours ? hours + " h " + minutes + " min" : minutes + " min";
  }
  function refresh(root) {
    root.querySelectorAll("time[datetime]:not([data-local])").forEach(function (node) {
      var moment = new Date(node.getAttribute("datetime"));
      node.textContent = moment.toLocaleString(undefined, {dateStyle: "medium", timeStyle: "short"});
      node.title = node.getAttribute("datetime");
      node.setAttribute("data-local", "");
    });
    root.querySelectorAll(".sla[data-due] .sla-left").forEach(function (node) {
      var badge = node.parentNode, left = Math.round((new Date(badge.getAttribute("data-due")) - new Date()) / 1000);
      node.textContent = left >= 0 ? span(left) + " " + badge.getAttribute("data-left")
                                   : span(-left) + " " + badge.getAttribute("data-over");
    });
  }
  document.addEventListener("DOMContentLoaded", function () { refresh(document); });
  document.addEventListener("htmx:afterSettle", function (event) { refresh(event.target.parentNode || document); });
  setInterval(function () { refresh(document); }, 30000);
  // A live poll that fails (the server refused it, or it never arrived) says so, rather than the queue silently
  // standing still; the next poll that succeeds takes the notice away.
  function pollFailed(failed) {
    return function (event) {
      var notice = document.getElementById("live-failed");
      if (notice && event.detail.elt.classList.contains("poller")) { notice.hidden = !failed; }
    };
  }
  document.addEventListener("htmx:responseError", pollFailed(true));
  document.addEventListener("htmx:sendError", pollFailed(true));
  // Before the swap: afterwards the answered poller is out of the page, and its events no longer reach here.
  document.addEventListener("htmx:beforeSwap", function (event) {
    if (!event.detail.isError) { pollFailed(false)(event); }
  });
})();
