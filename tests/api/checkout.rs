//! A card top-up against a real PortOne (configured by settings alone): the payment page hands
//! PortOne's browser SDK what `IMP.request_pay` needs, the policy lets only PortOne's CDN in,
//! and nothing is credited while PortOne cannot confirm.

use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app_with, Db};

both_databases!(
    a_real_portone_card_checkout_page_carries_what_the_sdk_needs_and_credits_nothing_unconfirmed,
);

async fn a_real_portone_card_checkout_page_carries_what_the_sdk_needs_and_credits_nothing_unconfirmed(
    db: Db,
) {
    let app = spawn_app_with(db, |s| {
        // A PortOne that does not answer (nothing listens on the discard port).
        s.portone.api_url = Some("http://127.0.0.1:9".to_owned());
        s.portone.api_key = "live-key".to_owned();
        s.portone.api_secret = "live-secret".to_owned();
        s.portone.imp_code = "imp12345678".to_owned();
        s.portone.prepare = false;
        s.portone.timeout = std::time::Duration::from_millis(300);
        s.public_url = Some("https://neighborbid.example".to_owned());
    })
    .await;
    let member = app.sign_up("cardholder").await;
    let (_, wallet) = app.get_html(&member, "/wallet").await;
    assert!(
        wallet.contains("value=\"card\""),
        "the card top-up is offered"
    );
    let r = app
        .post(
            &member,
            "/wallet/top-up",
            &[("method", "card"), ("amount", "10000")],
        )
        .await;
    assert_eq!(r.status(), StatusCode::SEE_OTHER);
    let page_path = r.headers()["location"].to_str().unwrap().to_owned();
    let uid = page_path.trim_start_matches("/payments/").to_owned();
    let r = app.get(&member, &page_path).await;
    let csp = r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_owned();
    assert!(
        csp.contains("script-src 'self' https://cdn.iamport.kr"),
        "{csp}"
    );
    assert!(!csp.contains("unsafe-inline"), "{csp}");
    let page = r.text().await.unwrap();
    for needed in [
        "id=\"portone-checkout\"".to_owned(),
        "data-imp-code=\"imp12345678\"".to_owned(),
        "data-pg=\"html5_inicis\"".to_owned(),
        format!("data-merchant-uid=\"{uid}\""),
        "data-amount=\"10000\"".to_owned(),
        "data-redirect=\"https://neighborbid.example/payments/complete\"".to_owned(),
        "data-notice=\"https://neighborbid.example/payments/webhook\"".to_owned(),
        "<script src=\"https://cdn.iamport.kr/v1/iamport.js\"></script>".to_owned(),
        "<script src=\"/static/js/checkout.js\" defer></script>".to_owned(),
    ] {
        assert!(page.contains(&needed), "{needed}: {page}");
    }
    assert!(
        !page.contains("/portone-sim/"),
        "no simulator with a real PortOne"
    );
    let r = app.get(&member, "/static/js/checkout.js").await;
    assert_eq!(r.status(), StatusCode::OK);
    assert!(r.text().await.unwrap().contains("IMP.request_pay"));
    assert_eq!(
        app.get(&member, "/portone-sim/checkout").await.status(),
        StatusCode::NOT_FOUND
    );

    // Coming back from the window while PortOne cannot be asked credits nothing.
    let r = app
        .get(
            &member,
            &format!("/payments/complete?imp_uid=imp_000000000001&merchant_uid={uid}"),
        )
        .await;
    assert!(
        r.status() == StatusCode::SERVICE_UNAVAILABLE || r.status() == StatusCode::SEE_OTHER,
        "{}",
        r.status()
    );
    assert_eq!(app.wallet(&member).await, (0, 0));
    let (_, page) = app.get_html(&member, &page_path).await;
    assert!(page.contains("Waiting for payment"));
    app.assert_audit_clean();
}
