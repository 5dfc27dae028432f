//! [`ClientAddr`]: the address of the client a request came from, for throttling and logs.
//!
//! It is the TCP peer, unless the peer is a proxy the operator trusts (`--trusted-proxy`): then
//! it is the rightmost address of `X-Forwarded-For` that is not itself a trusted proxy. Each proxy
//! appends the address it received the request from, so everything left of the first untrusted
//! hop may have been written by the client and is never believed. From an untrusted peer the
//! header is ignored altogether.

use std::net::{IpAddr, SocketAddr};

use axum::extract::rejection::ExtensionRejection;
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use ipnet::IpNet;

use super::AppState;

const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// The client's address, as [`client_ip`] chooses it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

impl FromRequestParts<AppState> for ClientAddr {
    type Rejection = ExtensionRejection;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let ConnectInfo(peer) = ConnectInfo::<SocketAddr>::from_request_parts(parts, state).await?;
        Ok(ClientAddr(client_ip(peer.ip(), &parts.headers, &state.trusted_proxies)))
    }
}

/// The peer, or — when the peer is a trusted proxy — the rightmost untrusted address of
/// `X-Forwarded-For` (every header of that name, in order). When every hop is trusted, the
/// leftmost one. When the header is absent, or the hop to believe is not an address, the peer.
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted_proxies: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    let trusted = |address: &IpAddr| trusted_proxies.iter().any(|net| net.contains(address));
    if !trusted(&peer) {
        return peer;
    }
    let mut hops = Vec::new();
    for value in headers.get_all(X_FORWARDED_FOR) {
        let Ok(value) = value.to_str() else { return peer };
        hops.extend(value.split(',').map(str::trim));
    }
    let mut leftmost = peer;
    for hop in hops.iter().rev() {
        let Some(address) = parse_hop(hop) else { return peer };
        if !trusted(&address) {
            return address;
        }
        leftmost = address;
    }
    leftmost
}

/// One `X-Forwarded-For` entry: an address, or an address with a port (some proxies add it).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|address| address.ip()))
        .ok()
        .map(|address| address.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(peer: &str, forwarded_for: &[&str], trusted: &[&str], expected: &str) {
        let mut headers = HeaderMap::new();
        for value in forwarded_for {
            headers.append(X_FORWARDED_FOR, value.parse().unwrap());
        }
        let trusted: Vec<IpNet> = trusted.iter().map(|net| net.parse().unwrap()).collect();
        let chosen = client_ip(peer.parse().unwrap(), &headers, &trusted);
        assert_eq!(
            chosen,
            expected.parse::<IpAddr>().unwrap(),
            "peer {peer}, X-Forwarded-For {forwarded_for:?}"
        );
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        check("203.0.113.9", &["10.0.0.1"], &[], "203.0.113.9");
        check("203.0.113.9", &["10.0.0.1"], &["127.0.0.0/8"], "203.0.113.9");
    }

    #[test]
    fn a_trusted_proxy_names_the_client_in_x_forwarded_for() {
        check("127.0.0.1", &["198.51.100.4"], &["127.0.0.0/8"], "198.51.100.4");
    }

    #[test]
    fn addresses_a_client_wrote_left_of_the_first_untrusted_hop_are_not_believed() {
        // The client sent "X-Forwarded-For: 1.2.3.4"; the proxy appended the real address.
        check("127.0.0.1", &["1.2.3.4, 198.51.100.4"], &["127.0.0.0/8"], "198.51.100.4");
    }

    #[test]
    fn a_chain_of_trusted_proxies_is_walked_from_the_right() {
        check("10.0.0.2", &["198.51.100.4, 10.0.0.7", "10.0.0.3"], &["10.0.0.0/8"], "198.51.100.4");
    }

    #[test]
    fn when_every_hop_is_trusted_the_leftmost_is_the_client() {
        check("10.0.0.2", &["10.0.0.9, 10.0.0.7"], &["10.0.0.0/8"], "10.0.0.9");
    }

    #[test]
    fn a_trusted_peer_without_the_header_or_with_a_malformed_hop_is_the_client() {
        check("127.0.0.1", &[], &["127.0.0.0/8"], "127.0.0.1");
        check("127.0.0.1", &["1.2.3.4, not-an-address"], &["127.0.0.0/8"], "127.0.0.1");
        check("127.0.0.1", &[""], &["127.0.0.0/8"], "127.0.0.1");
    }

    /// The invariant in ARCHITECTURE.md, kept by a test: a handler that read `ConnectInfo`
    /// itself would see the proxy, not the client.
    #[test]
    fn only_the_accept_loop_and_client_addr_touch_connect_info() {
        fn rust_files(folder: &std::path::Path, found: &mut Vec<std::path::PathBuf>) {
            for entry in std::fs::read_dir(folder).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    rust_files(&path, found);
                } else if path.extension().is_some_and(|extension| extension == "rs") {
                    found.push(path);
                }
            }
        }
        let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
        let mut files = Vec::new();
        rust_files(&source, &mut files);
        let allowed = [source.join("http/serve.rs"), source.join("http/client_addr.rs")];
        let offenders: Vec<_> = files
            .iter()
            .filter(|file| !allowed.contains(file))
            .filter(|file| std::fs::read_to_string(file).unwrap().contains("ConnectInfo"))
            .collect();
        assert!(offenders.is_empty(), "take the client's address with ClientAddr instead: {offenders:?}");
        assert!(files.len() > 20, "the walk found the sources: {}", files.len());
    }

    #[test]
    fn ports_and_mapped_ipv6_addresses_are_read_as_plain_addresses() {
        check("::ffff:127.0.0.1", &["198.51.100.4:5123"], &["127.0.0.0/8"], "198.51.100.4");
        check("::1", &["[2001:db8::5]:443"], &["::1/128"], "2001:db8::5");
        check("127.0.0.1", &["::ffff:198.51.100.4"], &["127.0.0.0/8"], "198.51.100.4");
    }
}
