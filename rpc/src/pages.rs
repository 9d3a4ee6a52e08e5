//! Static pages on the JSON-RPC port: `GET /explorer/...` answers files compiled into the
//! binary (the node's ledger explorer, `node/src/explorer.rs`), nothing read from disk and
//! nothing fetched from elsewhere. The content security policy lets a page load only its own
//! files and talk only to this origin (JSON-RPC over HTTP and WebSocket), so a page can show what
//! a node says without any of it running as code. Like the probes, pages bypass the JSON-RPC
//! rate limit: they are a few small files.

use http::{header, HeaderValue, Method, StatusCode};
use jsonrpsee::server::{HttpBody, HttpResponse};

/// One file of a site.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct StaticFile {
    /// Its name under the site's prefix, e.g. `app.js`.
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static [u8],
}

/// Files served under one path prefix; `index.html` answers the prefix itself.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Pages {
    /// E.g. `/explorer`, without a trailing slash.
    pub prefix: &'static str,
    pub files: &'static [StaticFile],
}

/// Only this origin, for scripts, styles and connections (`'self'` covers its WebSocket too).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

impl Pages {
    /// The answer to `req` if it is a `GET` or `HEAD` under the prefix, else `None` (JSON-RPC).
    pub fn respond<B>(&self, req: &http::Request<B>) -> Option<HttpResponse> {
        if req.method() != Method::GET && req.method() != Method::HEAD {
            return None;
        }
        let path = req.uri().path();
        let head = req.method() == Method::HEAD;
        if path == self.prefix {
            let mut r = empty(StatusCode::PERMANENT_REDIRECT);
            if let Ok(v) = HeaderValue::from_str(&format!("{}/", self.prefix)) {
                r.headers_mut().insert(header::LOCATION, v);
            }
            return Some(r);
        }
        let name = path.strip_prefix(self.prefix)?.strip_prefix('/')?;
        let name = if name.is_empty() { "index.html" } else { name };
        let Some(file) = self.files.iter().find(|f| f.name == name) else {
            let mut r = text(StatusCode::NOT_FOUND, "no such page\n");
            secure(&mut r);
            return Some(r);
        };
        let mut r = HttpResponse::new(if head {
            HttpBody::empty()
        } else {
            HttpBody::from(file.body.to_vec())
        });
        r.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static(file.content_type),
        );
        r.headers_mut()
            .insert(header::CONTENT_LENGTH, HeaderValue::from(file.body.len()));
        // Revalidated every time: a node upgraded in place serves its new page at once.
        r.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
        secure(&mut r);
        Some(r)
    }
}

fn empty(status: StatusCode) -> HttpResponse {
    let mut r = HttpResponse::new(HttpBody::empty());
    *r.status_mut() = status;
    r
}

fn text(status: StatusCode, body: &'static str) -> HttpResponse {
    let mut r = HttpResponse::new(HttpBody::from(body));
    *r.status_mut() = status;
    r.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    r
}

fn secure(r: &mut HttpResponse) {
    let h = r.headers_mut();
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::health::tests::req;

    const SITE: Pages = Pages {
        prefix: "/explorer",
        files: &[
            StaticFile {
                name: "index.html",
                content_type: "text/html; charset=utf-8",
                body: b"<!doctype html>",
            },
            StaticFile {
                name: "app.js",
                content_type: "text/javascript; charset=utf-8",
                body: b"1",
            },
        ],
    };

    #[test]
    fn files_answer_under_the_prefix_only() {
        let r = SITE.respond(&req(Method::GET, "/explorer/")).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(
            r.headers()[header::CONTENT_SECURITY_POLICY],
            CONTENT_SECURITY_POLICY
        );
        let js = SITE.respond(&req(Method::GET, "/explorer/app.js")).unwrap();
        assert_eq!(js.headers()[header::CONTENT_LENGTH], "1");
        let redirect = SITE.respond(&req(Method::GET, "/explorer")).unwrap();
        assert_eq!(redirect.status(), StatusCode::PERMANENT_REDIRECT);
        assert_eq!(redirect.headers()[header::LOCATION], "/explorer/");
        for missing in [
            "/explorer/nope.js",
            "/explorer/../Cargo.toml",
            "/explorer/app.js/",
        ] {
            let r = SITE.respond(&req(Method::GET, missing)).unwrap();
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{missing}");
        }
        // JSON-RPC and the probes are not pages.
        assert!(SITE.respond(&req(Method::POST, "/explorer/")).is_none());
        assert!(SITE.respond(&req(Method::GET, "/")).is_none());
        assert!(SITE.respond(&req(Method::GET, "/explorerx")).is_none());
        assert!(SITE.respond(&req(Method::GET, "/health")).is_none());
    }
}
