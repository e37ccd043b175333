//! Security headers on every response: a Content-Security-Policy that allows no inline script
//! (every script is a file under `/static/`), no framing, no MIME sniffing, no referrer to other
//! sites; and HSTS when the site is served over HTTPS.

use actix_web::middleware::DefaultHeaders;

/// Scripts, styles, images, sockets and forms from this site only; nothing may frame it.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

/// With a real PortOne, its browser SDK and the PG windows it opens: the SDK's script from
/// PortOne's CDN, PortOne's and the PGs' frames (PG-specific hosts, so any https frame).
pub const CONTENT_SECURITY_POLICY_WITH_PORTONE: &str = "default-src 'self'; \
script-src 'self' https://cdn.iamport.kr; style-src 'self'; img-src 'self' data: https:; \
connect-src 'self' https://*.iamport.kr; frame-src https:; font-src 'self'; \
object-src 'none'; base-uri 'self'; form-action 'self' https:; frame-ancestors 'none'";

/// The headers, with `Strict-Transport-Security` when `https` (a year, subdomains too), and a
/// policy that lets PortOne's SDK in when `portone_sdk` (a real PortOne is configured).
pub fn security_headers(https: bool, portone_sdk: bool) -> DefaultHeaders {
    let policy = if portone_sdk {
        CONTENT_SECURITY_POLICY_WITH_PORTONE
    } else {
        CONTENT_SECURITY_POLICY
    };
    let headers = DefaultHeaders::new()
        .add(("Content-Security-Policy", policy))
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
