//! The JSON-RPC middleware in front of every method: the per-client rate limit (each call of a
//! batch counts, notifications too) and a clear error for subscriptions over plain HTTP.
//!
//! The accept loop (`server`) tags every HTTP request with the client's address and transport;
//! jsonrpsee copies the HTTP request's extensions into each call's, which is how they reach here.

use std::collections::HashSet;
use std::future::Future;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use jsonrpsee::server::middleware::rpc::{
    Batch, BatchEntry, BatchEntryErr, MethodResponse, Notification, Request, ResponseFuture,
    RpcServiceT,
};
use jsonrpsee::types::{ErrorObjectOwned, Extensions};

use crate::error::ApiError;
use crate::rate_limit::RateLimiter;

/// The client's IP address, as the TCP connection shows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// How the request arrived. Subscriptions need a WebSocket.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Transport {
    Http,
    WebSocket,
}

/// On a response (single or batch) whose every call the rate limit refused: the HTTP layer turns
/// it into status 429 with `Retry-After`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RateLimited {
    pub retry_after: Duration,
}

/// On a response to notifications only: JSON-RPC 2.0 says the server must not reply, but
/// jsonrpsee 0.26 writes `null` as the HTTP body; the HTTP layer empties it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoReply;

/// Shared by every connection's middleware.
pub struct GuardState {
    pub limiter: Option<RateLimiter>,
    /// Subscribe and unsubscribe method names.
    pub subscription_methods: HashSet<&'static str>,
    /// Largest response body, a batch's included.
    pub max_response_bytes: usize,
}

#[derive(Clone)]
pub struct Guard<S> {
    inner: S,
    state: Arc<GuardState>,
}

impl<S> Guard<S> {
    pub fn new(inner: S, state: Arc<GuardState>) -> Self {
        Guard { inner, state }
    }
}

/// Why a call may not run, if it may not.
enum Refusal {
    RateLimited(ApiError, Duration),
    WebSocketRequired(ApiError),
}

impl Refusal {
    fn error(&self) -> ErrorObjectOwned {
        match self {
            Refusal::RateLimited(e, _) | Refusal::WebSocketRequired(e) => e.clone().into(),
        }
    }
}

impl GuardState {
    /// Takes `calls` tokens for the client named in `ext`; how many may go ahead, and the
    /// refusal for the rest.
    fn admit(&self, ext: &Extensions, calls: usize) -> (usize, Option<Refusal>) {
        let (Some(limiter), Some(ClientAddr(ip))) = (&self.limiter, ext.get::<ClientAddr>()) else {
            return (calls, None);
        };
        let grant = limiter.take(*ip, calls, Instant::now());
        let refusal = grant.retry_after.map(|retry| {
            let e = ApiError::RateLimited {
                client: *ip,
                per_second: limiter.per_second(),
                retry_after_ms: u64::try_from(retry.as_millis()).unwrap_or(u64::MAX).max(1),
            };
            Refusal::RateLimited(e, retry)
        });
        (grant.granted, refusal)
    }

    fn transport_refusal(&self, ext: &Extensions, method: &str) -> Option<Refusal> {
        let http = ext.get::<Transport>() == Some(&Transport::Http);
        (http && self.subscription_methods.contains(method)).then(|| {
            Refusal::WebSocketRequired(ApiError::WebSocketRequired {
                method: method.to_string(),
            })
        })
    }
}

fn no_reply(mut rp: MethodResponse) -> MethodResponse {
    if rp.is_notification() {
        rp.extensions_mut().insert(NoReply);
    }
    rp
}

fn refused_response(id: jsonrpsee::types::Id<'_>, ext: Extensions, r: &Refusal) -> MethodResponse {
    let mut rp = MethodResponse::error(id, r.error()).with_extensions(ext);
    if let Refusal::RateLimited(_, retry) = r {
        rp.extensions_mut().insert(RateLimited {
            retry_after: *retry,
        });
    }
    rp
}

/// The service under the middleware: jsonrpsee's, answering everything with a
/// `MethodResponse`.
pub trait InnerService:
    RpcServiceT<
        MethodResponse = MethodResponse,
        BatchResponse = MethodResponse,
        NotificationResponse = MethodResponse,
    > + Send
    + Sync
{
}

impl<S> InnerService for S where
    S: RpcServiceT<
            MethodResponse = MethodResponse,
            BatchResponse = MethodResponse,
            NotificationResponse = MethodResponse,
        > + Send
        + Sync
{
}

impl<S> RpcServiceT for Guard<S>
where
    S: InnerService + Clone + 'static,
{
    type MethodResponse = MethodResponse;
    type NotificationResponse = MethodResponse;
    type BatchResponse = MethodResponse;

    fn call<'a>(&self, req: Request<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let (granted, refusal) = self.state.admit(req.extensions(), 1);
        let refusal = if granted == 0 {
            refusal
        } else {
            self.state
                .transport_refusal(req.extensions(), req.method_name())
        };
        match refusal {
            Some(r) => {
                let Request { id, extensions, .. } = req;
                ResponseFuture::ready(refused_response(id, extensions, &r))
            }
            None => ResponseFuture::future(self.inner.call(req)),
        }
    }

    fn batch<'a>(&self, mut batch: Batch<'a>) -> impl Future<Output = MethodResponse> + Send + 'a {
        let entries = batch.iter().filter(|e| e.is_ok()).count();
        let (granted, refusal) = self.state.admit(batch.extensions(), entries);
        let mut kept = Vec::with_capacity(batch.len());
        let (mut seen, mut calls, mut refused_calls) = (0usize, 0usize, 0usize);
        for entry in batch {
            let Ok(entry) = entry else {
                kept.push(entry);
                continue;
            };
            seen += 1;
            let is_call = matches!(entry, BatchEntry::Call(_));
            calls += usize::from(is_call);
            let why = if seen > granted {
                refusal.as_ref().map(|r| r.error())
            } else {
                self.state
                    .transport_refusal(entry.extensions(), entry.method_name())
                    .map(|r| r.error())
            };
            match (why, entry) {
                (None, entry) => kept.push(Ok(entry)),
                (Some(err), BatchEntry::Call(req)) => {
                    refused_calls += usize::from(seen > granted);
                    kept.push(Err(BatchEntryErr::new(req.id, err)));
                }
                // A refused notification has no response to carry an error: it is dropped.
                (Some(_), BatchEntry::Notification(_)) => {}
            }
        }
        let all_limited = calls > 0 && refused_calls == calls;
        let retry = match &refusal {
            Some(Refusal::RateLimited(_, retry)) => Some(*retry),
            _ => None,
        };
        let inner = self.inner.clone();
        let max_response_bytes = self.state.max_response_bytes;
        async move {
            if kept.is_empty() {
                // Only refused notifications: nothing to answer, as for any notification.
                return no_reply(MethodResponse::notification());
            }
            let mut rp = no_reply(
                crate::batch::serve_concurrently(inner, Batch::from(kept), max_response_bytes)
                    .await,
            );
            if let (true, Some(retry_after)) = (all_limited, retry) {
                rp.extensions_mut().insert(RateLimited { retry_after });
            }
            rp
        }
    }

    fn notification<'a>(
        &self,
        n: Notification<'a>,
    ) -> impl Future<Output = MethodResponse> + Send + 'a {
        let (granted, _) = self.state.admit(n.extensions(), 1);
        let inner = self.inner.clone();
        async move {
            if granted == 0 {
                // No response to carry an error: the notification is dropped unseen.
                no_reply(MethodResponse::notification())
            } else {
                no_reply(inner.notification(n).await)
            }
        }
    }
}
