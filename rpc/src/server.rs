//! The listener: jsonrpsee's HTTP + WebSocket service on one port, behind CORS and the per-client
//! guard (`middleware`). jsonrpsee's own `Server::start` does not tell its middleware who the
//! client is, so the accept loop is ours: it tags each request with the peer's address.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;

use http::{header, HeaderValue, StatusCode};
use jsonrpsee::server::middleware::rpc::RpcServiceBuilder;
use jsonrpsee::server::{
    serve_with_graceful_shutdown, stop_channel, ws, BatchRequestConfig, HttpBody, HttpResponse,
    Methods, Server, ServerConfig, ServerHandle,
};
use tower::Service;

use crate::api::NodeApi;
use crate::cors::CorsError;
use crate::envelope::EnvelopeLayer;
use crate::middleware::{ClientAddr, Guard, GuardState, NoReply, RateLimited, Transport};
use crate::rate_limit::RateLimiter;

/// Limits applied to every connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RpcLimits {
    pub max_request_bytes: u32,
    pub max_response_bytes: u32,
    pub max_connections: u32,
    pub max_batch_len: u32,
    pub max_subscriptions_per_connection: u32,
    /// Calls a second per client IP (IPv6: per /64), with a burst of one second's worth; 0 = no
    /// limit.
    pub requests_per_second_per_client: u32,
}

impl Default for RpcLimits {
    fn default() -> Self {
        RpcLimits {
            // A transaction is at most 64 KiB of canonical bytes, ~2.2x that as JSON numbers.
            max_request_bytes: 1 << 20,
            max_response_bytes: 32 << 20,
            max_connections: 256,
            max_batch_len: 100,
            max_subscriptions_per_connection: 16,
            requests_per_second_per_client: 5_000,
        }
    }
}

/// Who may call from a browser, and the pages served to browsers on the same port.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RpcAccess {
    /// `rpc.cors_origins`: empty = no CORS headers, `["*"]` = any origin, else these origins.
    pub cors_origins: Vec<String>,
    /// Static pages answered to `GET` under their prefix (`rpc.explorer`); `None` serves none.
    pub pages: Option<crate::pages::Pages>,
}

#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("json-rpc cannot listen on {addr}: {reason}")]
    Bind { addr: SocketAddr, reason: String },
    #[error("json-rpc method registration: {0}")]
    Register(String),
    #[error(transparent)]
    Cors(#[from] CorsError),
}

/// The method table [`serve`] answers from, for callers in the same process: requests go in as
/// JSON-RPC text through `Methods::raw_json_request`, with no listener, CORS or rate limit. The
/// fuzz targets decode every method's params through it.
pub fn methods(api: Arc<dyn NodeApi>) -> Result<Methods, ServeError> {
    Ok(crate::methods::module(api)?.into())
}

/// Binds `addr` and serves `api` until the returned handle is stopped.
pub async fn serve(
    addr: SocketAddr,
    api: Arc<dyn NodeApi>,
    limits: RpcLimits,
    access: RpcAccess,
) -> Result<(SocketAddr, ServerHandle), ServeError> {
    let probes = api.clone();
    let methods = methods(api)?;
    serve_with(addr, methods, Some(probes), limits, access).await
}

/// [`serve`] for any set of methods: the transport (envelope checks, limits, CORS, the rate
/// limit) without the node behind it (so no `GET /health` or `/ready`). Tests serve the
/// JSON-RPC 2.0 specification's own example methods with it.
pub async fn serve_methods(
    addr: SocketAddr,
    methods: Methods,
    limits: RpcLimits,
    access: RpcAccess,
) -> Result<(SocketAddr, ServerHandle), ServeError> {
    serve_with(addr, methods, None, limits, access).await
}

/// The transport for `methods`; `probes` answers `GET /health` and `GET /ready` when given.
async fn serve_with(
    addr: SocketAddr,
    methods: Methods,
    probes: Option<Arc<dyn NodeApi>>,
    limits: RpcLimits,
    access: RpcAccess,
) -> Result<(SocketAddr, ServerHandle), ServeError> {
    let cors = crate::cors::layer(&access.cors_origins)?;
    let pages = access.pages;
    let state = Arc::new(GuardState {
        limiter: RateLimiter::new(limits.requests_per_second_per_client),
        subscription_methods: crate::methods::SUBSCRIPTION_METHODS
            .iter()
            .copied()
            .collect::<HashSet<_>>(),
        max_response_bytes: limits.max_response_bytes as usize,
    });
    let config = ServerConfig::builder()
        .max_request_body_size(limits.max_request_bytes)
        .max_response_body_size(limits.max_response_bytes)
        .max_connections(limits.max_connections)
        .max_subscriptions_per_connection(limits.max_subscriptions_per_connection)
        .set_batch_request_config(BatchRequestConfig::Limit(limits.max_batch_len))
        .build();
    let http = tower::ServiceBuilder::new()
        .option_layer(cors)
        .map_response(http_status)
        .layer(EnvelopeLayer {
            max_request_bytes: limits.max_request_bytes,
            max_batch_len: limits.max_batch_len,
        });
    let rpc = RpcServiceBuilder::new().layer_fn(move |service| Guard::new(service, state.clone()));
    let builder = Server::builder()
        .set_config(config)
        .set_http_middleware(http)
        .set_rpc_middleware(rpc)
        .to_service_builder();
    let bind_err = |e: std::io::Error| ServeError::Bind {
        addr,
        reason: e.to_string(),
    };
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(bind_err)?;
    let bound = listener.local_addr().map_err(bind_err)?;
    let (stop, handle) = stop_channel();
    tokio::spawn(async move {
        loop {
            let (socket, peer) = tokio::select! {
                accepted = listener.accept() => match accepted {
                    Ok(a) => a,
                    Err(e) => {
                        // E.g. out of file descriptors: back off instead of spinning.
                        tracing::debug!(error = %e, "json-rpc accept failed");
                        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                        continue;
                    }
                },
                _ = stop.clone().shutdown() => break,
            };
            let _ = socket.set_nodelay(true);
            // jsonrpsee's service for this connection, every request tagged with the peer's
            // address and its transport (read by `middleware::Guard`).
            let (builder, methods, stop_conn) = (builder.clone(), methods.clone(), stop.clone());
            let probes = probes.clone();
            let service =
                tower::service_fn(move |mut req: http::Request<hyper::body::Incoming>| {
                    // `GET /health` and `GET /ready` are answered here, before JSON-RPC.
                    let probe = crate::health::probe(&req)
                        .and_then(|p| probes.as_ref().map(|api| (p, api.health())));
                    let page = pages.as_ref().and_then(|p| p.respond(&req));
                    let transport = if ws::is_upgrade_request(&req) {
                        Transport::WebSocket
                    } else {
                        Transport::Http
                    };
                    req.extensions_mut().insert(ClientAddr(peer.ip()));
                    req.extensions_mut().insert(transport);
                    let mut service = builder.clone().build(methods.clone(), stop_conn.clone());
                    async move {
                        if let Some((probe, health)) = probe {
                            return Ok(crate::health::respond(probe, &health));
                        }
                        if let Some(page) = page {
                            return Ok(page);
                        }
                        service.call(req).await
                    }
                });
            tokio::spawn(serve_with_graceful_shutdown(
                socket,
                service,
                stop.clone().shutdown(),
            ));
        }
    });
    Ok((bound, handle))
}

/// What the JSON-RPC layer marked on a response, in HTTP terms:
/// - every call refused by the rate limit: status 429 with `Retry-After` (whole seconds, rounded
///   up), which HTTP clients and proxies back off on; the body still carries the -32005 error(s);
/// - notifications only: an empty body (JSON-RPC 2.0: no reply to a notification).
fn http_status(mut response: HttpResponse) -> HttpResponse {
    if response.extensions().get::<NoReply>().is_some() {
        response.headers_mut().remove(header::CONTENT_TYPE);
        *response.body_mut() = HttpBody::empty();
        return response;
    }
    if let Some(limited) = response.extensions().get::<RateLimited>().copied() {
        *response.status_mut() = StatusCode::TOO_MANY_REQUESTS;
        let secs = limited.retry_after.as_millis().div_ceil(1_000).max(1);
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
    }
    response
}
