//! `GET /health` and `GET /ready` on the JSON-RPC port, for load balancers, orchestrators and
//! monitoring. `/health` answers 200 while the process serves at all (liveness); `/ready`
//! answers 200 only when the node can do its job (readiness), else 503. Both carry the node's
//! [`Health`] as JSON. They bypass the JSON-RPC rate limit: a probe is one status read.

use http::{header, HeaderValue, Method, StatusCode};
use jsonrpsee::server::{HttpBody, HttpResponse};
use serde::{Deserialize, Serialize};

/// What a probe sees.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Health {
    /// The node can serve its purpose: see `reasons` when it cannot.
    pub ready: bool,
    /// Why it is not ready; empty when it is.
    pub reasons: Vec<String>,
    /// `0.1.0 (commit 9276509abcde)`.
    pub version: String,
    pub committed_height: u64,
    pub syncing: bool,
    /// Voting power of the validators it is connected to, its own included.
    pub connected_power: u64,
    /// Voting power a quorum needs.
    pub quorum_power: u64,
}

/// Which probe a request is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Probe {
    Health,
    Ready,
}

/// The probe `req` asks for, if it is `GET` or `HEAD` of `/health` or `/ready`.
pub fn probe<B>(req: &http::Request<B>) -> Option<Probe> {
    if req.method() != Method::GET && req.method() != Method::HEAD {
        return None;
    }
    match req.uri().path() {
        "/health" => Some(Probe::Health),
        "/ready" => Some(Probe::Ready),
        _ => None,
    }
}

/// The HTTP answer to `probe` for a node in state `health`.
pub fn respond(probe: Probe, health: &Health) -> HttpResponse {
    let status = match probe {
        Probe::Health => StatusCode::OK,
        Probe::Ready if health.ready => StatusCode::OK,
        Probe::Ready => StatusCode::SERVICE_UNAVAILABLE,
    };
    let body = serde_json::to_string(health).unwrap_or_default();
    let mut response = HttpResponse::new(HttpBody::from(body));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A bodiless request (also for `pages`' tests).
    pub(crate) fn req(method: Method, path: &str) -> http::Request<()> {
        http::Request::builder()
            .method(method)
            .uri(path)
            .body(())
            .unwrap()
    }

    #[test]
    fn only_gets_of_the_two_paths_are_probes() {
        assert_eq!(probe(&req(Method::GET, "/health")), Some(Probe::Health));
        assert_eq!(probe(&req(Method::HEAD, "/ready")), Some(Probe::Ready));
        assert_eq!(probe(&req(Method::GET, "/ready?x=1")), Some(Probe::Ready));
        assert_eq!(probe(&req(Method::POST, "/health")), None);
        assert_eq!(probe(&req(Method::GET, "/")), None);
        assert_eq!(probe(&req(Method::GET, "/healthz")), None);
    }

    #[test]
    fn ready_is_503_until_the_node_is() {
        let mut h = Health::default();
        assert_eq!(respond(Probe::Health, &h).status(), StatusCode::OK);
        assert_eq!(
            respond(Probe::Ready, &h).status(),
            StatusCode::SERVICE_UNAVAILABLE
        );
        h.ready = true;
        assert_eq!(respond(Probe::Ready, &h).status(), StatusCode::OK);
    }
}
