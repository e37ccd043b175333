//! View models shared by pages and live fragments: what a page renders and the live relay
//! pushes again after a commit. They read through services and know nothing of HTTP.

pub mod auction;
pub mod chart;
pub mod chat;
pub mod i18n;
pub mod notification;
pub mod watchlist;
