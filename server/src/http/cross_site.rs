//! Cross-site refusal: the API refuses state-changing requests that a browser sent on behalf of
//! another site. The session cookie is `SameSite=Strict`, so this is the second line: it also
//! covers sibling sites (`same-site`), which SameSite lets through, and browsers that ignore it.
//!
//! A request is cross-site when its method changes state (anything but GET, HEAD, OPTIONS) and
//! either `Sec-Fetch-Site` says `cross-site` or `same-site`, or an `Origin` is given whose
//! host[:port] is not the request's `Host`. Requests without these headers (API clients, curl)
//! are not from a browser page and pass.

use axum::extract::Request;
use axum::http::{HeaderMap, Method, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use super::Error;

const SEC_FETCH_SITE: &str = "sec-fetch-site";

/// Middleware: refuses cross-site requests with 403, before any handler runs.
pub async fn refuse_cross_site(request: Request, next: Next) -> Response {
    if is_cross_site(request.method(), request.headers()) {
        return Error::Forbidden(
            "cross-site requests are refused: send this request from the qol app itself".into(),
        )
        .into_response();
    }
    next.run(request).await
}

fn is_cross_site(method: &Method, headers: &HeaderMap) -> bool {
    if matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS) {
        return false;
    }
    let fetch_site = headers.get(SEC_FETCH_SITE).and_then(|value| value.to_str().ok());
    if fetch_site
        .is_some_and(|site| site.eq_ignore_ascii_case("cross-site") || site.eq_ignore_ascii_case("same-site"))
    {
        return true;
    }
    let Some(origin) = headers.get(header::ORIGIN) else { return false };
    let host = headers.get(header::HOST).and_then(|value| value.to_str().ok());
    match (origin.to_str().ok().and_then(origin_authority), host) {
        (Some(origin), Some(host)) => !origin.eq_ignore_ascii_case(host.trim()),
        // An opaque origin ("null"), one that is not a URL, or no Host to compare it with.
        _ => true,
    }
}

/// `https://qol.example:8443` → `qol.example:8443`; `None` for `null` and other non-URLs.
fn origin_authority(origin: &str) -> Option<&str> {
    let (scheme, rest) = origin.trim().split_once("://")?;
    if !(scheme.eq_ignore_ascii_case("http") || scheme.eq_ignore_ascii_case("https")) {
        return None;
    }
    let authority = rest.strip_suffix('/').unwrap_or(rest);
    (!authority.is_empty() && !authority.contains('/')).then_some(authority)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cross_site(method: Method, headers: &[(&'static str, &str)]) -> bool {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            map.append(*name, value.parse().unwrap());
        }
        is_cross_site(&method, &map)
    }

    #[test]
    fn requests_without_browser_headers_pass() {
        assert!(!cross_site(Method::POST, &[("host", "qol.example")]));
        assert!(!cross_site(Method::DELETE, &[]));
    }

    #[test]
    fn the_same_origin_passes_and_another_origin_is_refused() {
        let same = [("host", "qol.example:8080"), ("origin", "http://qol.example:8080")];
        assert!(!cross_site(Method::POST, &same));
        assert!(!cross_site(Method::POST, &[("host", "QOL.example"), ("origin", "https://qol.example")]));
        assert!(cross_site(Method::POST, &[("host", "qol.example:8080"), ("origin", "http://evil.example")]));
        assert!(cross_site(
            Method::POST,
            &[("host", "qol.example:8080"), ("origin", "http://qol.example:9090")]
        ));
        assert!(cross_site(Method::PUT, &[("host", "qol.example"), ("origin", "null")]));
        assert!(cross_site(Method::PATCH, &[("origin", "https://qol.example")]));
    }

    #[test]
    fn sec_fetch_site_from_another_site_is_refused() {
        assert!(cross_site(Method::POST, &[("sec-fetch-site", "cross-site")]));
        assert!(cross_site(Method::POST, &[("sec-fetch-site", "same-site")]));
        assert!(!cross_site(Method::POST, &[("sec-fetch-site", "same-origin")]));
        assert!(!cross_site(Method::POST, &[("sec-fetch-site", "none")]));
    }

    #[test]
    fn reading_is_never_refused() {
        let evil =
            [("host", "qol.example"), ("origin", "http://evil.example"), ("sec-fetch-site", "cross-site")];
        assert!(!cross_site(Method::GET, &evil));
        assert!(!cross_site(Method::HEAD, &evil));
        assert!(!cross_site(Method::OPTIONS, &evil));
        assert!(cross_site(Method::DELETE, &evil));
    }
}
