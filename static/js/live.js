// NeighborBid live bid panel for national auctions. The server sends HTML fragments rendered
// by the page's own templates; this script only places them, sends bids, ticks the clock and
// reconnects. Without JavaScript the page works through its plain forms.
(function () {
  "use strict";
  var panel = document.getElementById("live-panel");
  if (!panel || !("WebSocket" in window)) return;
  var url = (location.protocol === "https:" ? "wss://" : "ws://") + location.host + panel.getAttribute("data-live-url");
  var status = document.getElementById("live-status");
  var notices = document.getElementById("live-notices");
  var form = panel.querySelector("form.bid-form");
  var buyNow = panel.querySelector("form.buy-now-form");
  var socket = null;
  var attempt = 0;
  // Whether the neighbour typed in (or emptied) the amount field since their last answer: a
  // state frame then leaves the field alone instead of putting the next minimum in it.
  // `filled` is what the page or this script last put there.
  var edited = false;
  var amountField = form && form.querySelector("input[name=amount]");
  var filled = amountField ? amountField.value : "";

  // The words a person reads come from the page, in its language (data-t-* on the panel).
  function word(name, a, b) {
    var text = panel.getAttribute("data-t-" + name) || "";
    return text.split("%{n}").join(a).split("%{a}").join(a).split("%{b}").join(b);
  }

  function setStatus(text, cls) {
    if (status) { status.textContent = text; status.className = "live-status " + cls; }
  }

  function place(target, html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var fresh = tpl.content.firstElementChild;
    var old = document.getElementById(target);
    if (fresh && old) old.replaceWith(fresh);
    tick();
  }

  // A chart update: every element marked data-live-part (the SVG, the table's rows) takes
  // the place of the page's element with its id.
  function placeParts(html) {
    var tpl = document.createElement("template");
    tpl.innerHTML = html;
    var parts = tpl.content.querySelectorAll("[data-live-part][id]");
    for (var i = 0; i < parts.length; i++) {
      var old = document.getElementById(parts[i].id);
      if (old) old.replaceWith(parts[i]);
    }
  }

  function notice(html) {
    if (!notices) return;
    notices.innerHTML = html;
  }

  function connect() {
    setStatus(word(attempt === 0 ? "connecting" : "reconnecting"), "connecting");
    socket = new WebSocket(url);
    socket.onopen = function () { attempt = 0; setStatus(word("live"), "live"); };
    socket.onmessage = function (ev) {
      var msg;
      try { msg = JSON.parse(ev.data); } catch (e) { return; }
      if (msg.type === "state") {
        place("auction-state", msg.html);
        var state = document.getElementById("auction-state");
        var min = state && state.getAttribute("data-min-bid");
        var input = form && form.querySelector("input[name=amount]");
        // The next minimum goes in only while the neighbour has not typed their own amount.
        if (input && min && !edited && input.value === filled && document.activeElement !== input) {
          input.value = min;
          filled = min;
        }
        if (buyNow && state && state.getAttribute("data-buy-now-offered") === "false") buyNow.hidden = true;
        if (state && state.getAttribute("data-status") !== "active" && state.getAttribute("data-status") !== "scheduled") {
          if (form) form.hidden = true;
          if (buyNow) buyNow.hidden = true;
        }
      } else if (msg.type === "chart") {
        placeParts(msg.html);
      } else {
        // An answer to a bid or buy-now: the next one is a new intent with a new key, and the
        // field follows the minimum again.
        freshKeys();
        if (msg.type !== "outbid") {
          edited = false;
          if (amountField) filled = amountField.value;
        }
        // Outbid: the "you lead, your maximum is held" line (only the leader has it) is stale.
        if (msg.type === "outbid") {
          var leading = panel.querySelector("p.leading");
          if (leading) leading.hidden = true;
        }
        notice(msg.html);
      }
    };
    socket.onclose = function () {
      socket = null;
      attempt += 1;
      var delay = Math.min(30000, 500 * Math.pow(2, attempt));
      setStatus(word("retrying", Math.round(delay / 1000)), "offline");
      setTimeout(connect, delay);
    };
  }

  if (form) {
    if (amountField) {
      amountField.addEventListener("input", function () { edited = true; });
      amountField.addEventListener("change", function () { edited = true; });
    }
    form.addEventListener("submit", function (ev) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return; // plain form post
      ev.preventDefault();
      var amount = form.querySelector("input[name=amount]").value;
      socket.send(JSON.stringify({ type: "bid", amount: amount, key: keyOf(form) }));
    });
  }
  if (buyNow) {
    buyNow.addEventListener("submit", function (ev) {
      if (!socket || socket.readyState !== WebSocket.OPEN) return;
      ev.preventDefault();
      var seen = buyNow.querySelector("input[name=expected_price]");
      socket.send(JSON.stringify({ type: "buy_now", expected_price: seen ? seen.value : "", key: keyOf(buyNow) }));
    });
  }

  // The forms' one-time keys (rendered by the page): the same key sent again after a lost
  // answer acts once; after an answer each form gets a new one.
  function keyOf(f) {
    var k = f.querySelector("input[name=idempotency_key]");
    return k ? k.value : "";
  }
  function freshKeys() {
    var fields = panel.querySelectorAll("input[name=idempotency_key]");
    for (var i = 0; i < fields.length; i++) {
      var bytes = new Uint8Array(16);
      window.crypto.getRandomValues(bytes);
      var hex = "";
      for (var j = 0; j < bytes.length; j++) hex += (bytes[j] < 16 ? "0" : "") + bytes[j].toString(16);
      fields[i].value = hex;
    }
  }

  function pad(n) { return n < 10 ? "0" + n : "" + n; }
  function tick() {
    var nodes = document.querySelectorAll(".time-left[data-deadline]");
    for (var i = 0; i < nodes.length; i++) {
      var left = Math.floor((parseInt(nodes[i].getAttribute("data-deadline"), 10) - Date.now()) / 1000);
      if (left <= 0) { nodes[i].textContent = word("ended"); continue; }
      var d = Math.floor(left / 86400), h = Math.floor(left % 86400 / 3600), m = Math.floor(left % 3600 / 60), s = left % 60;
      nodes[i].textContent = d > 0 ? word("left-dh", d, h) : h > 0 ? word("left-hm", h, pad(m)) : word("left-ms", m, pad(s));
    }
  }
  setInterval(tick, 1000);
  tick();
  connect();
})();
