//! The ledger explorer every node serves at `/explorer/` on its JSON-RPC port (`[rpc] explorer`):
//! the built files of `explorer/` (TypeScript, bundled offline from its package-lock.json into
//! `explorer/dist/`, which is committed), compiled into the binary so that building Waybill never
//! needs npm. `node/tests/explorer_bundle.rs` rebuilds the bundle and fails when the committed one
//! is not what the sources build.

use rpc::pages::{Pages, StaticFile};

/// Where the explorer is served.
pub const PREFIX: &str = "/explorer";

/// The explorer's files.
pub const PAGES: Pages = Pages {
    prefix: PREFIX,
    files: &[
        StaticFile {
            name: "index.html",
            content_type: "text/html; charset=utf-8",
            body: include_bytes!("../../explorer/dist/index.html"),
        },
        StaticFile {
            name: "app.js",
            content_type: "text/javascript; charset=utf-8",
            body: include_bytes!("../../explorer/dist/app.js"),
        },
        StaticFile {
            name: "app.css",
            content_type: "text/css; charset=utf-8",
            body: include_bytes!("../../explorer/dist/app.css"),
        },
    ],
};

/// The explorer's URL on a node whose JSON-RPC URL is `rpc_url` (`http://127.0.0.1:26601`).
pub fn url(rpc_url: &str) -> String {
    format!("{}{PREFIX}/", rpc_url.trim_end_matches('/'))
}
