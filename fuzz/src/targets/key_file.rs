//! Key files (`ledger::keyfile::parse_key_file`, what `read_key_file` runs on a file's text).
//!
//! - errors are typed `KeyTextError`s;
//! - an accepted file's key writes back to a key file that parses to the same key.

use ledger::keyfile::{key_file_text, parse_key_file};

use super::text;

pub fn run(data: &[u8]) {
    let Some(text) = text(data) else { return };
    match parse_key_file(text) {
        Ok(key) => {
            let again = parse_key_file(&key_file_text("consensus", &key))
                .expect("a written key file parses");
            assert_eq!(again.public(), key.public());
            assert_eq!(again.secret_bytes(), key.secret_bytes());
        }
        Err(e) => {
            let _ = e.to_string();
        }
    }
}
