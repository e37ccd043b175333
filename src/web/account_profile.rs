//! `GET, POST /account`: the member edits their display name (the sign-up rule) and their
//! neighbourhood (at most once a week).

use actix_web::http::StatusCode;
use actix_web::{web, HttpResponse};
use askama::Template;
use serde::Deserialize;

use crate::domain::msg::Msg;
use crate::domain::DisplayName;
use crate::services::accounts::{self, UpdateProfileError};
use crate::services::reference::RegionGroup;
use crate::web::session::flash;
use crate::web::{db, render, see_other, AppError, AppState, Ctx};

/// The form: `display_name`, `region_id`.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ProfileForm {
    pub display_name: String,
    pub region_id: String,
}

/// The account page: display name and neighbourhood, with the reasons a change was refused.
#[derive(Template)]
#[template(path = "account/profile.html")]
pub struct AccountPage {
    pub ctx: Ctx,
    pub errors: Vec<String>,
    pub display_name: String,
    pub region_id: i64,
    pub groups: Vec<RegionGroup>,
    pub profile_url: String,
}

pub async fn form(ctx: Ctx, state: web::Data<AppState>) -> Result<HttpResponse, AppError> {
    let user = ctx.require_user()?;
    let page = AccountPage {
        errors: vec![],
        display_name: user.display_name.clone(),
        region_id: user.region_id,
        groups: state.reference.neighbourhood_groups(),
        profile_url: format!("/users/{}", user.id),
        ctx,
    };
    render(StatusCode::OK, &page)
}

#[tracing::instrument(skip_all)]
pub async fn update(
    ctx: Ctx,
    state: web::Data<AppState>,
    form: web::Form<ProfileForm>,
) -> Result<HttpResponse, AppError> {
    let user_id = ctx.require_user()?.id;
    let form = form.into_inner();
    let mut errors = Vec::new();
    let name = DisplayName::parse(&form.display_name)
        .map_err(|e| errors.push(e))
        .ok();
    let region_id = form.region_id.trim().parse::<i64>().ok();
    if region_id.is_none() {
        errors.push(Msg::new("err.choose_neighbourhood"));
    }
    if let (Some(name), Some(region_id), true) = (name, region_id, errors.is_empty()) {
        let result: Result<(), UpdateProfileError> = db(&state, move |conn| {
            accounts::update_profile(conn, user_id, &name, region_id)
        })
        .await;
        match result {
            Ok(()) => {
                if let Some(session) = &ctx.session {
                    flash(session, "success", Msg::new("flash.profile_saved"));
                }
                return Ok(see_other("/account"));
            }
            Err(e) => errors.extend(AppError::from(e).into_msgs()?),
        }
    }
    let page = AccountPage {
        errors: Msg::texts(&errors, ctx.lang),
        display_name: form.display_name,
        region_id: region_id.unwrap_or(0),
        groups: state.reference.neighbourhood_groups(),
        profile_url: format!("/users/{user_id}"),
        ctx,
    };
    render(StatusCode::UNPROCESSABLE_ENTITY, &page)
}
