// NeighborBid chat page: sends the form with fetch (no reload) and clears it; the message comes
// back on the member socket (/me/live?chat=…, static/js/me.js) and is appended there, as the
// other side's are. A refusal (empty, too long, too fast, blocked) or any failure sends the form
// the ordinary way, so the page shows the reason: without JavaScript the form works the same.
(function () {
  "use strict";
  var form = document.getElementById("chat-form");
  if (!form || !window.fetch || !window.URLSearchParams) return;
  var box = form.querySelector("textarea[name=body]");
  var sending = false;
  form.addEventListener("submit", function (ev) {
    if (form.getAttribute("data-plain") === "1") return;
    ev.preventDefault();
    if (sending) return;
    sending = true;
    var body = new URLSearchParams(new FormData(form));
    fetch(form.action, {
      method: "POST",
      body: body,
      credentials: "same-origin",
      headers: { "X-Chat-Fetch": "1" },
      redirect: "manual"
    }).then(function (r) {
      sending = false;
      if (r.status === 204) {
        box.value = "";
        box.focus();
      } else {
        form.setAttribute("data-plain", "1");
        form.submit();
      }
    }, function () {
      sending = false;
      form.setAttribute("data-plain", "1");
      form.submit();
    });
  });
  // Enter sends, Shift+Enter makes a new line.
  box.addEventListener("keydown", function (ev) {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      if (form.requestSubmit) form.requestSubmit(); else form.dispatchEvent(new Event("submit", { cancelable: true }));
    }
  });
  var list = document.getElementById("chat-messages");
  if (list && list.lastElementChild) list.lastElementChild.scrollIntoView({ block: "end" });
})();
