// NeighborBid header: keeps the unread badge and the wallet balance live over the member's
// socket (/me/live), and shows a new notification at the top of the page. The server sends
// HTML rendered by the page's own partials; this only places it. On /me/watchlist the same
// socket (?watchlist=1) also pushes each watched auction's row again after every change. Without
// JavaScript the header and the watchlist are as fresh as the page. On a chat page (/chats/{id})
// the socket (?chat=ID&after=LAST) pushes the conversation's new messages, appended in order; it
// also redraws the header's unread-chats badge.
(function () {
  "use strict";
  var toasts = document.getElementById("me-toasts");
  if (!toasts || !("WebSocket" in window)) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + toasts.getAttribute("data-live-url");
  var watchlist = document.getElementById("watchlist");
  if (watchlist) url += "?watchlist=1";
  var chat = document.getElementById("chat-messages");
  // An older page of a conversation stays as it is.
  if (chat && chat.getAttribute("data-paged") === "1") chat = null;
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

  // The bottom bar (small screens) shows the header's unread counts again (notifications,
  // chats).
  function mirrorBadge(from, to) {
    var count = document.getElementById(from);
    var tab = document.getElementById(to);
    if (!count || !tab || !tab.firstChild) return;
    tab.firstChild.nodeValue = count.textContent;
    tab.hidden = count.hidden;
  }

  // The newest message the chat page shows (asked for again after a reconnect).
  function lastMessage() {
    var items = chat.querySelectorAll("[data-message-id]");
    return items.length ? Number(items[items.length - 1].getAttribute("data-message-id")) : 0;
  }

  function connect() {
    var at = url;
    if (chat) at += "?chat=" + Number(chat.getAttribute("data-chat-id")) + "&after=" + lastMessage();
    var socket = new WebSocket(at);
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
      if (msg.type === "chat") {
        if (!chat || Number(msg.chat) !== Number(chat.getAttribute("data-chat-id"))) return;
        var mid = Number(fresh.getAttribute("data-message-id"));
        if (mid <= lastMessage() || document.getElementById("message-" + mid)) return;
        var empty = document.getElementById("chat-empty");
        if (empty) empty.remove();
        chat.appendChild(fresh);
        fresh.scrollIntoView({ block: "end" });
        return;
      }
      if (msg.type === "chats") {
        var old_badge = document.getElementById("chat-unread-count");
        if (old_badge) old_badge.replaceWith(fresh);
        mirrorBadge("chat-unread-count", "tab-chat-unread");
        return;
      }
      if (msg.type === "me") {
        var old = document.getElementById("me-bar");
        if (old) old.replaceWith(fresh);
        mirrorBadge("unread-count", "tab-unread");
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
