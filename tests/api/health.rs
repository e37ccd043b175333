use reqwest::StatusCode;

use crate::helpers::{both_databases, spawn_app, Db};

both_databases!(
    healthz_answers_ok_when_the_database_answers,
    unknown_pages_get_the_templated_not_found_page,
    anonymous_visitors_see_the_front_page_with_log_in_and_sign_up,
);

async fn healthz_answers_ok_when_the_database_answers(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app.get_html(&app.client(), "/healthz").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body, "ok");
}

async fn unknown_pages_get_the_templated_not_found_page(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app.get_html(&app.client(), "/no/such/page").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(body.contains("Page not found"), "{body}");
    assert!(body.contains("site-header"), "the 404 page uses the layout");
}

async fn anonymous_visitors_see_the_front_page_with_log_in_and_sign_up(db: Db) {
    let app = spawn_app(db).await;
    let (status, body) = app.get_html(&app.client(), "/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(body.contains("href=\"/login\""));
    assert!(body.contains("href=\"/signup\""));
    assert!(!body.contains("Log out"));
}
