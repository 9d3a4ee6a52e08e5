//! Every example of section 7 of the JSON-RPC 2.0 specification, sent as raw HTTP to the node's
//! JSON-RPC transport serving the specification's own example methods (`subtract`, `sum`,
//! `get_data`, `update`, `notify_hello`), gets exactly the response the specification shows
//! (batch answers in any order, as section 6 allows). Then the transport cases the
//! specification leaves to the server: an empty body, a wrong content type, another HTTP method.

use std::net::SocketAddr;
use std::time::Duration;

use jsonrpsee::types::ErrorObjectOwned;
use jsonrpsee::RpcModule;
use serde_json::{json, Value};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use waybill_rpc::{serve_methods, RpcAccess, RpcLimits};

/// The specification's example methods.
fn spec_methods() -> RpcModule<()> {
    let mut m = RpcModule::new(());
    m.register_method("subtract", |p, _, _| {
        let (minuend, subtrahend): (i64, i64) = if p.is_object() {
            #[derive(serde::Deserialize)]
            struct Named {
                minuend: i64,
                subtrahend: i64,
            }
            let n: Named = p.parse()?;
            (n.minuend, n.subtrahend)
        } else {
            p.parse()?
        };
        Ok::<_, ErrorObjectOwned>(minuend - subtrahend)
    })
    .unwrap();
    m.register_method("sum", |p, _, _| {
        let v: Vec<i64> = p.parse()?;
        Ok::<_, ErrorObjectOwned>(v.iter().sum::<i64>())
    })
    .unwrap();
    m.register_method("get_data", |_, _, _| json!(["hello", 5]))
        .unwrap();
    m.register_method("update", |_, _, _| json!(null)).unwrap();
    m.register_method("notify_hello", |_, _, _| json!(null))
        .unwrap();
    m
}

struct Reply {
    status: u16,
    content_type: String,
    body: String,
}

async fn send(addr: SocketAddr, method: &str, content_type: Option<&str>, body: &str) -> Reply {
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let mut head = format!(
        "{method} / HTTP/1.1\r\nhost: {addr}\r\ncontent-length: {}\r\nconnection: close\r\n",
        body.len()
    );
    if let Some(ct) = content_type {
        head.push_str(&format!("content-type: {ct}\r\n"));
    }
    head.push_str("\r\n");
    stream.write_all(head.as_bytes()).await.unwrap();
    stream.write_all(body.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    tokio::time::timeout(Duration::from_secs(30), stream.read_to_end(&mut raw))
        .await
        .expect("an answer within 30 s")
        .unwrap();
    let raw = String::from_utf8(raw).unwrap();
    let (head, body) = raw.split_once("\r\n\r\n").expect("an HTTP response");
    let status = head.split(' ').nth(1).unwrap().parse().unwrap();
    let header = |name: &str| {
        head.lines()
            .find_map(|l| {
                let (n, v) = l.split_once(':')?;
                n.eq_ignore_ascii_case(name).then(|| v.trim().to_string())
            })
            .unwrap_or_default()
    };
    let body = if header("transfer-encoding") == "chunked" {
        dechunk(body)
    } else {
        body.to_string()
    };
    Reply {
        status,
        content_type: header("content-type"),
        body,
    }
}

fn dechunk(mut rest: &str) -> String {
    let mut out = String::new();
    loop {
        let (size, after) = rest.split_once("\r\n").unwrap();
        let size = usize::from_str_radix(size.trim(), 16).unwrap();
        if size == 0 {
            return out;
        }
        out.push_str(&after[..size]);
        rest = &after[size + 2..];
    }
}

async fn post(addr: SocketAddr, body: &str) -> Reply {
    send(addr, "POST", Some("application/json"), body).await
}

/// Sorts a batch answer by its text, so that two answers in different orders compare equal.
fn normalised(v: Value) -> Value {
    match v {
        Value::Array(mut a) => {
            a.sort_by_key(|x| x.to_string());
            Value::Array(a)
        }
        v => v,
    }
}

async fn expect(addr: SocketAddr, request: &str, response: Option<Value>) {
    let r = post(addr, request).await;
    match response {
        None => {
            assert_eq!(r.status, 200, "{request}");
            assert_eq!(r.body, "", "{request}: no answer expected");
        }
        Some(expected) => {
            let got: Value = serde_json::from_str(&r.body)
                .unwrap_or_else(|e| panic!("{request}: answer is not JSON ({e}): {:?}", r.body));
            assert_eq!(normalised(got), normalised(expected), "{request}");
        }
    }
}

#[tokio::test]
async fn section_7_examples_get_the_specified_answers() {
    let (addr, handle) = serve_methods(
        "127.0.0.1:0".parse().unwrap(),
        spec_methods().into(),
        RpcLimits::default(),
        RpcAccess::default(),
    )
    .await
    .unwrap();

    // rpc call with positional parameters
    expect(
        addr,
        r#"{"jsonrpc": "2.0", "method": "subtract", "params": [42, 23], "id": 1}"#,
        Some(json!({"jsonrpc": "2.0", "result": 19, "id": 1})),
    )
    .await;
    expect(
        addr,
        r#"{"jsonrpc": "2.0", "method": "subtract", "params": [23, 42], "id": 2}"#,
        Some(json!({"jsonrpc": "2.0", "result": -19, "id": 2})),
    )
    .await;
    // rpc call with named parameters
    expect(addr, r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"subtrahend": 23, "minuend": 42}, "id": 3}"#,
        Some(json!({"jsonrpc": "2.0", "result": 19, "id": 3}))).await;
    expect(addr, r#"{"jsonrpc": "2.0", "method": "subtract", "params": {"minuend": 42, "subtrahend": 23}, "id": 4}"#,
        Some(json!({"jsonrpc": "2.0", "result": 19, "id": 4}))).await;
    // a Notification
    expect(
        addr,
        r#"{"jsonrpc": "2.0", "method": "update", "params": [1,2,3,4,5]}"#,
        None,
    )
    .await;
    expect(addr, r#"{"jsonrpc": "2.0", "method": "foobar"}"#, None).await;
    // rpc call of non-existent method
    expect(addr, r#"{"jsonrpc": "2.0", "method": "foobar", "id": "1"}"#,
        Some(json!({"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "1"}))).await;
    // rpc call with invalid JSON
    expect(addr, r#"{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]"#,
        Some(json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}))).await;
    // rpc call with invalid Request object
    let invalid_request = json!({"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null});
    expect(
        addr,
        r#"{"jsonrpc": "2.0", "method": 1, "params": "bar"}"#,
        Some(invalid_request.clone()),
    )
    .await;
    // rpc call Batch, invalid JSON
    expect(addr, r#"[
  {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
  {"jsonrpc": "2.0", "method"
]"#,
        Some(json!({"jsonrpc": "2.0", "error": {"code": -32700, "message": "Parse error"}, "id": null}))).await;
    // rpc call with an empty Array
    expect(addr, "[]", Some(invalid_request.clone())).await;
    // rpc call with an invalid Batch (but not empty)
    expect(addr, "[1]", Some(json!([invalid_request]))).await;
    // rpc call with invalid Batch
    expect(
        addr,
        "[1,2,3]",
        Some(json!([invalid_request, invalid_request, invalid_request])),
    )
    .await;
    // rpc call Batch
    expect(
        addr,
        r#"[
        {"jsonrpc": "2.0", "method": "sum", "params": [1,2,4], "id": "1"},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]},
        {"jsonrpc": "2.0", "method": "subtract", "params": [42,23], "id": "2"},
        {"foo": "boo"},
        {"jsonrpc": "2.0", "method": "foo.get", "params": {"name": "myself"}, "id": "5"},
        {"jsonrpc": "2.0", "method": "get_data", "id": "9"}
    ]"#,
        Some(json!([
            {"jsonrpc": "2.0", "result": 7, "id": "1"},
            {"jsonrpc": "2.0", "result": 19, "id": "2"},
            {"jsonrpc": "2.0", "error": {"code": -32600, "message": "Invalid Request"}, "id": null},
            {"jsonrpc": "2.0", "error": {"code": -32601, "message": "Method not found"}, "id": "5"},
            {"jsonrpc": "2.0", "result": ["hello", 5], "id": "9"}
        ])),
    )
    .await;
    // rpc call Batch (all notifications)
    expect(
        addr,
        r#"[
        {"jsonrpc": "2.0", "method": "notify_sum", "params": [1,2,4]},
        {"jsonrpc": "2.0", "method": "notify_hello", "params": [7]}
    ]"#,
        None,
    )
    .await;

    handle.stop().unwrap();
}

/// What the specification leaves to the transport is still a JSON-RPC error object: an empty
/// body, a wrong or missing content type, `params` of another type, a `method` of another type,
/// another HTTP method.
#[tokio::test]
async fn transport_errors_are_json_rpc_error_objects() {
    let (addr, handle) = serve_methods(
        "127.0.0.1:0".parse().unwrap(),
        spec_methods().into(),
        RpcLimits::default(),
        RpcAccess::default(),
    )
    .await
    .unwrap();
    let code = |r: &Reply| -> i64 {
        assert!(
            r.content_type.starts_with("application/json"),
            "{}: {}",
            r.content_type,
            r.body
        );
        let v: Value = serde_json::from_str(&r.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {:?}", r.body));
        assert_eq!(v["jsonrpc"], "2.0", "{}", r.body);
        assert_eq!(v["id"], Value::Null, "{}", r.body);
        v["error"]["code"].as_i64().unwrap()
    };
    let r = post(addr, "").await;
    assert_eq!(code(&r), -32700);
    let body = r#"{"jsonrpc": "2.0", "method": "sum", "params": [1], "id": 1}"#;
    let r = send(addr, "POST", Some("text/plain"), body).await;
    assert_eq!((r.status, code(&r)), (415, -32600));
    let r = send(addr, "POST", None, body).await;
    assert_eq!((r.status, code(&r)), (415, -32600));
    let r = send(addr, "GET", None, "").await;
    assert_eq!((r.status, code(&r)), (405, -32600));
    for bad in [
        r#"{"jsonrpc": "2.0", "method": 7}"#,
        r#"{"jsonrpc": "2.0", "method": ["sum"], "id": 1}"#,
        r#"{"jsonrpc": "2.0", "method": "sum", "params": 5, "id": 1}"#,
        r#"{"jsonrpc": "2.0", "method": "sum", "params": "1,2", "id": 1}"#,
        r#"{"jsonrpc": "2.0", "method": "sum", "params": null, "id": 1}"#,
    ] {
        let r = post(addr, bad).await;
        let v: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(v["error"]["code"], -32600, "{bad}: {}", r.body);
    }
    // A valid call with a charset parameter in its content type is served.
    let r = send(addr, "POST", Some("application/json; charset=utf-8"), body).await;
    assert_eq!(serde_json::from_str::<Value>(&r.body).unwrap()["result"], 1);
    handle.stop().unwrap();
}
