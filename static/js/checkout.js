// NeighborBid card checkout through PortOne's browser SDK (IMP.request_pay). The page carries
// everything in data attributes; this script only opens PortOne's payment window and, when it
// closes, goes to /payments/complete, where the server asks PortOne what happened. Nothing here
// is trusted by the server.
(function () {
  "use strict";
  var box = document.getElementById("portone-checkout");
  var button = document.getElementById("portone-pay");
  if (!box || !button) return;
  button.addEventListener("click", function () {
    if (!window.IMP) {
      // The words come from the page, in its language (as text, never as markup).
      var p = document.createElement("p");
      p.className = "form-errors";
      p.textContent = box.getAttribute("data-t-no-sdk") || "";
      button.insertAdjacentElement("afterend", p);
      return;
    }
    var d = box.dataset;
    window.IMP.init(d.impCode);
    window.IMP.request_pay({
      pg: d.pg,
      pay_method: "card",
      merchant_uid: d.merchantUid,
      name: d.name,
      amount: Number(d.amount),
      m_redirect_url: d.redirect,
      notice_url: d.notice
    }, function (rsp) {
      if (rsp && rsp.imp_uid) {
        location.href = "/payments/complete?imp_uid=" + encodeURIComponent(rsp.imp_uid) +
          "&merchant_uid=" + encodeURIComponent(rsp.merchant_uid || d.merchantUid);
      } else {
        location.reload();
      }
    });
  });
})();
