//! Security headers on every response: a Content-Security-Policy that allows no inline script
//! (every script is a file under `/static/`), no framing, no MIME sniffing, no referrer to other
//! sites; and HSTS when the site is served over HTTPS.

use actix_web::middleware::DefaultHeaders;

/// Scripts, styles, images, sockets and forms from this site only; nothing may frame it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// The headers, with `Strict-Transport-Security` when `https` (a year, subdomains too).
pub fn security_headers(https: bool) -> DefaultHeaders {
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", CONTENT_SECURITY_POLICY))
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("Referrer-Policy", "same-origin"))
        .add(("X-Frame-Options", "DENY"));
    if https {
        headers.add((
            "Strict-Transport-Security",
            "max-age=31536000; includeSubDomains",
        ))
    } else {
        headers
    }
}
