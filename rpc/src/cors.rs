//! CORS for browser clients, from `rpc.cors_origins`: empty sends no CORS headers (browsers then
//! allow same-origin pages only), `["*"]` allows any origin, otherwise exactly the origins listed.

use std::time::Duration;

use http::{header, HeaderValue, Method};
use tower_http::cors::{AllowOrigin, CorsLayer};

/// How long a browser may cache a preflight answer.
const PREFLIGHT_MAX_AGE: Duration = Duration::from_secs(3_600);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CorsError {
    #[error("rpc.cors_origins: {origin:?} is not an origin; write scheme://host[:port] with no path or trailing slash, e.g. \"https://app.example.com\"")]
    NotAnOrigin { origin: String },
    #[error("rpc.cors_origins: \"*\" allows every origin, so it must be the only entry (found {entries:?})")]
    WildcardWithOthers { entries: Vec<String> },
}

/// The layer for `origins`, `None` when CORS is off.
pub fn layer(origins: &[String]) -> Result<Option<CorsLayer>, CorsError> {
    if origins.is_empty() {
        return Ok(None);
    }
    let allow = if origins.iter().any(|o| o == "*") {
        if origins.len() > 1 {
            return Err(CorsError::WildcardWithOthers {
                entries: origins.to_vec(),
            });
        }
        AllowOrigin::any()
    } else {
        let values = origins
            .iter()
            .map(|o| origin_value(o))
            .collect::<Result<Vec<_>, _>>()?;
        AllowOrigin::list(values)
    };
    Ok(Some(
        CorsLayer::new()
            .allow_origin(allow)
            // JSON-RPC is a POST with a JSON body; WebSockets are not subject to CORS.
            .allow_methods([Method::POST])
            .allow_headers([header::CONTENT_TYPE])
            .max_age(PREFLIGHT_MAX_AGE),
    ))
}

/// A browser's `Origin` header is `scheme://host[:port]`, nothing more: an entry with a path or a
/// trailing slash would never match, so it is refused at start-up rather than silently ignored.
fn origin_value(origin: &str) -> Result<HeaderValue, CorsError> {
    let bad = || CorsError::NotAnOrigin {
        origin: origin.to_string(),
    };
    let (scheme, authority) = origin.split_once("://").ok_or_else(bad)?;
    let scheme_ok = !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    let authority_ok = !authority.is_empty()
        && !authority.contains(['/', '?', '#', '@'])
        && !authority
            .chars()
            .any(|c| c.is_whitespace() || c.is_control());
    if !scheme_ok || !authority_ok {
        return Err(bad());
    }
    HeaderValue::from_str(origin).map_err(|_| bad())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn list(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn empty_is_off_and_valid_lists_build() {
        assert!(layer(&[]).unwrap().is_none());
        assert!(layer(&list(&["*"])).unwrap().is_some());
        assert!(
            layer(&list(&["https://app.example.com", "http://localhost:3000"]))
                .unwrap()
                .is_some()
        );
    }

    #[test]
    fn bad_entries_are_named() {
        for bad in [
            "app.example.com",
            "https://app.example.com/",
            "https://a.com/path",
            "https://",
            "://a.com",
            "https://a b.com",
        ] {
            assert_eq!(
                layer(&list(&[bad])).unwrap_err(),
                CorsError::NotAnOrigin {
                    origin: bad.to_string()
                },
                "{bad}"
            );
        }
        assert!(matches!(
            layer(&list(&["*", "https://a.com"])),
            Err(CorsError::WildcardWithOthers { .. })
        ));
    }
}
