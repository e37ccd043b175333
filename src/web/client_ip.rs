//! The client's IP address, for every per-client limit: the socket's peer, unless that peer is
//! a trusted proxy (`NEIGHBORBID_TRUSTED_PROXIES`); then the right-most address of
//! `X-Forwarded-For` that is not a trusted proxy. Everything left of it was written by the client
//! (or proxies we know nothing about) and is ignored, so a forged header changes nothing.

use std::future::{ready, Ready};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

use actix_web::dev::Payload;
use actix_web::http::header::HeaderMap;
use actix_web::{web, FromRequest, HttpRequest};

use crate::config::TrustedProxies;
use crate::web::{AppError, AppState};

/// The address a request comes from (see the module). A request without a socket peer (none in
/// practice) counts as `0.0.0.0`.
pub fn client_ip(req: &HttpRequest) -> IpAddr {
    let peer = req
        .peer_addr()
        .map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |a| a.ip());
    match req.app_data::<web::Data<AppState>>() {
        Some(state) => resolve(peer, req.headers(), &state.settings.trusted_proxies),
        None => peer.to_canonical(),
    }
}

/// The rule itself: `peer` and the request's `X-Forwarded-For` lines (all of them, in order).
pub fn resolve(peer: IpAddr, headers: &HeaderMap, trusted: &TrustedProxies) -> IpAddr {
    let mut client = peer.to_canonical();
    if !trusted.contains(client) {
        return client;
    }
    let lines: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .map(|v| v.to_str().unwrap_or("garbage"))
        .collect();
    for entry in lines.iter().rev().flat_map(|line| line.rsplit(',')) {
        match parse_hop(entry) {
            Some(ip) if trusted.contains(ip) => client = ip,
            Some(ip) => return ip,
            // Not an address: the hop that passed it on is the last one we can name.
            None => return client,
        }
    }
    // Every hop is a trusted proxy: the request started at the left-most of them.
    client
}

/// One `X-Forwarded-For` entry: `203.0.113.7`, `2001:db8::1`, `[2001:db8::1]`, or either with a
/// port (`203.0.113.7:5121`, `[2001:db8::1]:5121`).
fn parse_hop(entry: &str) -> Option<IpAddr> {
    let entry = entry.trim();
    let ip = entry
        .parse::<IpAddr>()
        .ok()
        .or_else(|| entry.parse::<SocketAddr>().ok().map(|a| a.ip()))
        .or_else(|| {
            entry
                .strip_prefix('[')
                .and_then(|e| e.strip_suffix(']'))
                .and_then(|e| e.parse::<IpAddr>().ok())
        })?;
    Some(ip.to_canonical())
}

/// [`client_ip`] as an extractor, for handlers that limit something per client.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientIp(pub IpAddr);

impl FromRequest for ClientIp {
    type Error = AppError;
    type Future = Ready<Result<Self, Self::Error>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(Ok(ClientIp(client_ip(req))))
    }
}

impl std::fmt::Display for ClientIp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use actix_web::http::header::{HeaderName, HeaderValue};

    use super::*;

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for line in lines {
            map.append(
                HeaderName::from_static("x-forwarded-for"),
                HeaderValue::from_str(line).unwrap(),
            );
        }
        map
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn without_trusted_proxies_the_peer_is_the_client_whatever_the_header_says() {
        let none = TrustedProxies::default();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(resolve(ip("127.0.0.1"), &h, &none), ip("127.0.0.1"));
        assert_eq!(resolve(ip("::ffff:10.0.0.1"), &h, &none), ip("10.0.0.1"));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_even_when_proxies_are_trusted() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let h = headers(&["203.0.113.9"]);
        assert_eq!(
            resolve(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
    }

    #[test]
    fn behind_trusted_proxies_the_right_most_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.2");
        // The client forged the left part; the proxies appended the rest.
        let h = headers(&["1.2.3.4, 198.51.100.7, 10.0.0.5"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("198.51.100.7"));
        // Several header lines read as one list, in order.
        let h = headers(&["1.2.3.4", "198.51.100.7", "10.0.0.5"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("198.51.100.7"));
        // Ports, brackets and IPv4-mapped IPv6.
        let h = headers(&["[2001:db8::1]:443"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("2001:db8::1"));
        let h = headers(&["198.51.100.7:5000"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("198.51.100.7"));
        let h = headers(&["::ffff:198.51.100.7"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("198.51.100.7"));
    }

    #[test]
    fn garbage_or_a_missing_header_leaves_the_last_trusted_hop() {
        let trusted = TrustedProxies::parse("10.0.0.0/8").unwrap();
        let peer = ip("10.0.0.2");
        assert_eq!(resolve(peer, &headers(&[]), &trusted), peer);
        let h = headers(&["198.51.100.7, unknown, 10.0.0.5"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("10.0.0.5"));
        let h = headers(&["10.0.0.9, 10.0.0.5"]);
        assert_eq!(resolve(peer, &h, &trusted), ip("10.0.0.9"));
        let h = headers(&[""]);
        assert_eq!(resolve(peer, &h, &trusted), peer);
    }
}
