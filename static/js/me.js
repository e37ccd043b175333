// NeighborBid header: keeps the unread badge and the wallet balance live over the member's
// socket (/me/live), and shows a new notification at the top of the page. The server sends
// HTML rendered by the page's own partials; this only places it. On /me/watchlist the same
// socket (?watchlist=1) also pushes each watched auction's row again after every change. Without
// JavaScript the header and the watchlist are as fresh as the page.
(function () {
  "use strict";
  var toasts = document.getElementById("me-toasts");
  if (!toasts || !("WebSocket" in window)) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + toasts.getAttribute("data-live-url");
  var watchlist = document.getElementById("watchlist");
  if (watchlist) url += "?watchlist=1";
  var attempt = 0;

  function fragment(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    return tpl.content.firstElementChild;
  }

  // A table row parses only inside a table.
  function row(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = "<table><tbody>" + html + "</tbody></table>";
    return tpl.content.querySelector("tr");
  }

  // The bottom bar (small screens) shows the header's unread count again.
  function mirrorBadge() {
    var count = document.getElementById("unread-count");
    var tab = document.getElementById("tab-unread");
    if (!count || !tab || !tab.firstChild) return;
    tab.firstChild.nodeValue = count.textContent;
    tab.hidden = count.hidden;
  }

  function connect() {
    var socket = new WebSocket(url);
    socket.onopen = function () { attempt = 0; toasts.setAttribute("data-live", "on"); };
    socket.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "watch") {
        if (!watchlist) return;
        var fresh_row = row(msg.html || "");
        var old_row = watchlist.querySelector('tr[data-auction-id="' + Number(msg.auction) + '"]');
        if (fresh_row && old_row) old_row.replaceWith(fresh_row);
        return;
      }
      var fresh = fragment(msg.html || "");
      if (!fresh) return;
      if (msg.type === "me") {
        var old = document.getElementById("me-bar");
        if (old) old.replaceWith(fresh);
        mirrorBadge();
      } else if (msg.type === "notification") {
        toasts.insertBefore(fresh, toasts.firstChild);
        while (toasts.children.length > 3) toasts.removeChild(toasts.lastChild);
      }
    };
    socket.onclose = function (ev) {
      toasts.setAttribute("data-live", "off");
      // 1008: the session ended; a new login gets a new page.
      if (ev.code === 1008) return;
      attempt += 1;
      setTimeout(connect, Math.min(30000, 500 * Math.pow(2, attempt)));
    };
  }
  connect();
})();
