//! The JSON-RPC 2.0 envelope of every HTTP request, checked before jsonrpsee sees it, so that
//! every request gets the answer the specification (section 7) gives, and every transport
//! error is a JSON-RPC error object rather than plain text:
//!
//! - a body that is not JSON, or is empty: `-32700 Parse error`, `id: null`;
//! - `[]`: one `-32600 Invalid Request` (not an array), `id: null`;
//! - a request that is not an object, has a member other than `jsonrpc`, `method`, `params`
//!   and `id` or one twice, a `jsonrpc` other than `"2.0"`, a `method` that is not a string,
//!   `params` that are neither an array nor an object, or an `id` that is not a string, a number
//!   or null: `-32600 Invalid Request`, with its `id` when that one is valid, else `null`;
//! - in a batch, each such entry gets its error and the valid ones are served as usual;
//! - a POST without `Content-Type: application/json`: HTTP 415 and `-32600`; another HTTP method
//!   (but a WebSocket upgrade): HTTP 405 and `-32600`.
//!
//! jsonrpsee 0.26 answered some of these with plain text, a parse error, an empty body or not at
//! all (issue 21).

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::BodyExt;
use jsonrpsee::server::{http::response, ws, HttpBody, HttpRequest, HttpResponse};
use serde::de::{Deserializer, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{json, Value};
use tower::{BoxError, Layer, Service};

/// JSON-RPC 2.0's codes for the two errors this layer gives.
const PARSE_ERROR: i64 = -32700;
const INVALID_REQUEST: i64 = -32600;

/// Wraps the HTTP service under it with [`EnvelopeCheck`].
#[derive(Clone, Copy, Debug)]
pub struct EnvelopeLayer {
    pub max_request_bytes: u32,
    pub max_batch_len: u32,
}

impl<S> Layer<S> for EnvelopeLayer {
    type Service = EnvelopeCheck<S>;

    fn layer(&self, inner: S) -> EnvelopeCheck<S> {
        EnvelopeCheck {
            inner,
            limits: *self,
        }
    }
}

#[derive(Clone, Debug)]
pub struct EnvelopeCheck<S> {
    inner: S,
    limits: EnvelopeLayer,
}

/// What to do with a request body.
#[derive(Debug, PartialEq)]
enum Verdict {
    /// Valid throughout: jsonrpsee serves it as it is.
    Forward,
    /// Nothing for jsonrpsee: this is the whole answer.
    Answer(Value),
    /// A batch with some invalid entries: jsonrpsee serves `forward` (a batch of the valid
    /// ones, as their original text), and `errors` are added to its answer.
    Partial { forward: String, errors: Vec<Value> },
}

impl<S, B> Service<HttpRequest<B>> for EnvelopeCheck<S>
where
    S: Service<HttpRequest<HttpBody>, Response = HttpResponse, Error = BoxError>
        + Clone
        + Send
        + 'static,
    S::Future: Send + 'static,
    B: http_body::Body<Data = Bytes> + Send + 'static,
    B::Error: Into<BoxError>,
{
    type Response = HttpResponse;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: HttpRequest<B>) -> Self::Future {
        if ws::is_upgrade_request(&req) {
            return Box::pin(self.inner.call(req.map(HttpBody::new)));
        }
        // The clone that was polled ready serves this request (tower's usual hand-over).
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let limits = self.limits;
        Box::pin(async move {
            if req.method() != Method::POST {
                return Ok(error_response(
                    StatusCode::METHOD_NOT_ALLOWED,
                    "Invalid Request: HTTP POST is required",
                ));
            }
            let json = req
                .headers()
                .get(http::header::CONTENT_TYPE)
                .is_some_and(|v| is_json_type(v.as_bytes()));
            if !json {
                return Ok(error_response(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "Invalid Request: Content-Type must be application/json",
                ));
            }
            let (parts, body) = req.into_parts();
            let limited = http_body_util::Limited::new(body, limits.max_request_bytes as usize);
            let bytes = match limited.collect().await {
                Ok(collected) => collected.to_bytes(),
                Err(_) => return Ok(response::too_large(limits.max_request_bytes)),
            };
            match check(&bytes, limits.max_batch_len as usize) {
                Verdict::Forward => {
                    let req = HttpRequest::from_parts(parts, HttpBody::from(bytes.to_vec()));
                    inner.call(req).await
                }
                Verdict::Answer(answer) => Ok(response::ok_response(answer.to_string())),
                Verdict::Partial { forward, errors } => {
                    let req = HttpRequest::from_parts(parts, HttpBody::from(forward));
                    let served = inner.call(req).await?;
                    merge(served, errors).await
                }
            }
        })
    }
}

/// `application/json`, with parameters or not, in any letter case.
fn is_json_type(v: &[u8]) -> bool {
    let v = String::from_utf8_lossy(v).to_ascii_lowercase();
    v.split(';').next().map(str::trim) == Some("application/json")
}

fn error(code: i64, message: &str, id: Value) -> Value {
    json!({"jsonrpc": "2.0", "error": {"code": code, "message": message}, "id": id})
}

fn error_response(status: StatusCode, message: &str) -> HttpResponse {
    let mut rp = response::ok_response(error(INVALID_REQUEST, message, Value::Null).to_string());
    *rp.status_mut() = status;
    rp
}

/// Adds `errors` to jsonrpsee's answer to the valid part of a batch. An answer that is not an
/// array (the whole batch refused, e.g. too large) is kept as it is.
async fn merge(served: HttpResponse, errors: Vec<Value>) -> Result<HttpResponse, BoxError> {
    let (mut parts, body) = served.into_parts();
    let bytes = body.collect().await?.to_bytes();
    let mut answers: Vec<Value> = if bytes.iter().all(u8::is_ascii_whitespace) {
        // Notifications only: no answers of their own.
        Vec::new()
    } else {
        match serde_json::from_slice::<Value>(&bytes) {
            Ok(Value::Array(a)) => a,
            _ => {
                return Ok(HttpResponse::from_parts(
                    parts,
                    HttpBody::from(bytes.to_vec()),
                ))
            }
        }
    };
    answers.extend(errors);
    parts.headers.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("application/json; charset=utf-8"),
    );
    parts.headers.remove(http::header::CONTENT_LENGTH);
    let body = Value::Array(answers).to_string();
    Ok(HttpResponse::from_parts(parts, HttpBody::from(body)))
}

/// The verdict on a whole body.
fn check(body: &[u8], max_batch_len: usize) -> Verdict {
    let parse_error = || Verdict::Answer(error(PARSE_ERROR, "Parse error", Value::Null));
    let Ok(text) = std::str::from_utf8(body) else {
        return parse_error();
    };
    let Ok(whole) = serde_json::from_str::<&RawValue>(text) else {
        return parse_error();
    };
    if !whole.get().starts_with('[') {
        return match check_request(whole) {
            Ok(()) => Verdict::Forward,
            Err(e) => Verdict::Answer(e),
        };
    }
    let Ok(entries) = serde_json::from_str::<Vec<&RawValue>>(whole.get()) else {
        return parse_error();
    };
    if entries.is_empty() {
        return Verdict::Answer(error(INVALID_REQUEST, "Invalid Request", Value::Null));
    }
    if entries.len() > max_batch_len {
        // jsonrpsee refuses the whole batch.
        return Verdict::Forward;
    }
    let mut valid = Vec::new();
    let mut errors = Vec::new();
    for entry in entries {
        match check_request(entry) {
            Ok(()) => valid.push(entry.get()),
            Err(e) => errors.push(e),
        }
    }
    match (valid.is_empty(), errors.is_empty()) {
        (_, true) => Verdict::Forward,
        (true, false) => Verdict::Answer(Value::Array(errors)),
        (false, false) => Verdict::Partial {
            forward: format!("[{}]", valid.join(",")),
            errors,
        },
    }
}

/// One request object's envelope; the error to answer it with if it is not valid. Not a request
/// at all (not an object, no `"jsonrpc": "2.0"`, no string `method`) gets the plain error of the
/// specification's examples; a request wrong in its details says why in the error's `data`.
fn check_request(raw: &RawValue) -> Result<(), Value> {
    let invalid = |id: Value, why: Option<&str>| {
        let mut e = error(INVALID_REQUEST, "Invalid Request", id);
        if let Some(why) = why {
            e["error"]["data"] = Value::from(why);
        }
        e
    };
    let members = match serde_json::from_str::<Members>(raw.get()) {
        Ok(m) => m.0,
        Err(_) => return Err(invalid(Value::Null, None)),
    };
    let get = |name: &str| {
        members
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.get())
    };
    // An id is echoed only if it is valid and there is one id.
    let ids = members.iter().filter(|(k, _)| k == "id").count();
    let (id, id_ok) = match get("id").map(|v| (v, v.as_bytes().first())) {
        None => (Value::Null, true),
        Some((v, Some(b'"' | b'-' | b'0'..=b'9' | b'n'))) if ids == 1 => {
            (serde_json::from_str(v).unwrap_or(Value::Null), true)
        }
        Some(_) => (Value::Null, false),
    };
    if get("jsonrpc") != Some("\"2.0\"") || !get("method").is_some_and(|m| m.starts_with('"')) {
        return Err(invalid(id, None));
    }
    let mut seen: Vec<&str> = Vec::new();
    for (name, _) in &members {
        if !["jsonrpc", "method", "params", "id"].contains(&name.as_str()) {
            return Err(invalid(id, Some(&format!("unknown member {name:?}"))));
        }
        if seen.contains(&name.as_str()) {
            return Err(invalid(id, Some(&format!("member {name:?} repeated"))));
        }
        seen.push(name);
    }
    if !id_ok {
        return Err(invalid(id, Some("id must be a string, a number or null")));
    }
    match get("params").and_then(|p| p.as_bytes().first()) {
        None | Some(b'[' | b'{') => Ok(()),
        Some(_) => Err(invalid(id, Some("params must be an array or an object"))),
    }
}

/// An object's members in order, repeats kept (so they can be refused), values as raw text.
struct Members(Vec<(String, Box<RawValue>)>);

impl<'de> serde::Deserialize<'de> for Members {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Members;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Members, A::Error> {
                let mut out = Vec::new();
                while let Some(entry) = map.next_entry::<String, Box<RawValue>>()? {
                    // A request has four members; more is refused anyway.
                    if out.len() > 8 {
                        return Err(serde::de::Error::custom("too many members"));
                    }
                    out.push(entry);
                }
                Ok(Members(out))
            }
        }
        d.deserialize_map(V)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(body: &str) -> Value {
        match check(body.as_bytes(), 100) {
            Verdict::Answer(v) => v,
            other => panic!("{body}: {other:?}"),
        }
    }

    #[test]
    fn invalid_envelopes_get_their_error_and_valid_ones_pass() {
        assert_eq!(answer("")["error"]["code"], PARSE_ERROR);
        assert_eq!(answer("  \n")["error"]["code"], PARSE_ERROR);
        assert_eq!(answer("{")["error"]["code"], PARSE_ERROR);
        assert_eq!(answer("[]")["error"]["code"], INVALID_REQUEST);
        assert_eq!(answer("1")["error"]["code"], INVALID_REQUEST);
        let r = answer(r#"{"jsonrpc":"2.0","method":"m","params":"x","id":7}"#);
        assert_eq!(
            (r["error"]["code"].clone(), r["id"].clone()),
            (json!(INVALID_REQUEST), json!(7))
        );
        let r = answer(r#"{"jsonrpc":"2.0","method":"m","id":[1]}"#);
        assert_eq!(r["id"], Value::Null);
        for bad in [
            r#"{"jsonrpc":"2.0","method":"m","id":1,"id":2}"#,
            r#"{"jsonrpc":"2.0","method":"m","id":1,"x":2}"#,
            r#"{"jsonrpc":"1.0","method":"m","id":1}"#,
            r#"{"method":"m","id":1}"#,
            r#"{"jsonrpc":"2.0","method":null,"id":1}"#,
            r#"{"jsonrpc":"2.0","id":1}"#,
        ] {
            assert_eq!(answer(bad)["error"]["code"], INVALID_REQUEST, "{bad}");
        }
        for good in [
            r#"{"jsonrpc":"2.0","method":"m"}"#,
            r#"{"jsonrpc":"2.0","method":"m","params":[1.50],"id":"a"}"#,
            r#"{"jsonrpc":"2.0","method":"m","params":{},"id":null}"#,
            r#"[{"jsonrpc":"2.0","method":"m","id":-1.5}]"#,
        ] {
            assert_eq!(check(good.as_bytes(), 100), Verdict::Forward, "{good}");
        }
        let mixed = r#"[{"jsonrpc":"2.0","method":"m","params":[4.50],"id":1}, 2]"#;
        match check(mixed.as_bytes(), 100) {
            Verdict::Partial { forward, errors } => {
                assert_eq!(
                    forward,
                    r#"[{"jsonrpc":"2.0","method":"m","params":[4.50],"id":1}]"#
                );
                assert_eq!(errors.len(), 1);
            }
            other => panic!("{other:?}"),
        }
        assert!(is_json_type(b"Application/JSON; charset=utf-8"));
        assert!(!is_json_type(b"text/plain"));
    }
}
