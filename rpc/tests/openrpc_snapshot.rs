//! `clients/openrpc.json` is exactly what `rpc.discover` answers: the client SDKs' RPC types are
//! generated from that file, so this check keeps them current (each SDK's own tests check that
//! its generated types are the file's). After a deliberate change of the RPC surface:
//! `WAYBILL_UPDATE_OPENRPC=1 cargo test --workspace --test openrpc_snapshot`, then regenerate
//! the SDK types (`npm run gen` in clients/typescript, `python3 -m waybill_client.gen` in
//! clients/python).

#[test]
fn clients_openrpc_json_is_the_discover_document() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../clients/openrpc.json");
    let current = serde_json::to_string_pretty(&waybill_rpc::openrpc_document()).unwrap() + "\n";
    if std::env::var_os("WAYBILL_UPDATE_OPENRPC").is_some() {
        std::fs::write(path, &current).unwrap();
    }
    let committed = std::fs::read_to_string(path).unwrap_or_default();
    assert!(
        committed == current,
        "clients/openrpc.json is not what rpc.discover answers: run \
         WAYBILL_UPDATE_OPENRPC=1 cargo test --workspace --test openrpc_snapshot, then regenerate \
         the SDK types (npm run gen in clients/typescript; python3 -m waybill_client.gen in clients/python)"
    );
}
