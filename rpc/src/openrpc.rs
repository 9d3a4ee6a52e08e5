//! `rpc.discover`: the OpenRPC document of every method.

use serde_json::json;

use crate::methods::METHODS;

/// A minimal OpenRPC document listing every method and its parameters.
pub fn openrpc() -> serde_json::Value {
    let methods: Vec<serde_json::Value> = METHODS
        .iter()
        .map(|(name, params, summary)| {
            json!({
                "name": name,
                "summary": summary,
                "params": params.iter().map(|p| json!({
                    "name": p.trim_end_matches('?'),
                    "required": !p.ends_with('?'),
                    "schema": {}
                })).collect::<Vec<_>>(),
                "result": { "name": "result", "schema": {} }
            })
        })
        .collect();
    json!({
        "openrpc": "1.2.6",
        "info": { "title": "Waybill JSON-RPC", "version": env!("CARGO_PKG_VERSION") },
        "methods": methods
    })
}
