//! The one strict JSON reader for everything a client or an auditor hands in: proof files
//! (`audit verify`, the SDK's verifiers) and transactions over JSON-RPC. Beyond RFC 8259 it
//! refuses:
//!
//! - an object with a member name twice (RFC 8259 leaves it open; serde keeps the last, so a
//!   proof could show a reader one `item_id` and verify another);
//! - a member the type does not know (every type read through here denies unknown fields);
//! - hex that is not lower case or has a `0x` prefix (the hex adapters use
//!   [`crate::decode_hex`]).
//!
//! Every error names the JSON path of the offending member, as `$.entries[2].receipt.tx_hash`.

use std::fmt;

use serde::de::DeserializeOwned;

/// Deepest nesting of arrays and objects read (a proof nests about 12 deep; a property value
/// at most 8 more).
pub const MAX_DEPTH: usize = 64;

/// Why a JSON text was refused, and where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{path}: {reason}")]
pub struct StrictJsonError {
    /// JSON path of the offending value (`$` for the whole text).
    pub path: String,
    pub reason: String,
}

/// Parses `text` as a `T`, strictly (see the module doc).
pub fn from_str<T: DeserializeOwned>(text: &str) -> Result<T, StrictJsonError> {
    check_no_duplicates(text)?;
    let mut de = serde_json::Deserializer::from_str(text);
    let value: T = serde_path_to_error::deserialize(&mut de).map_err(|e| StrictJsonError {
        path: json_path(e.path()),
        reason: e.inner().to_string(),
    })?;
    de.end().map_err(|e| StrictJsonError {
        path: "$".into(),
        reason: e.to_string(),
    })?;
    Ok(value)
}

/// `serde_path_to_error`'s path in the `$.a[0].b` form.
fn json_path(path: &serde_path_to_error::Path) -> String {
    use serde_path_to_error::Segment;
    let mut out = String::from("$");
    for segment in path.iter() {
        match segment {
            Segment::Seq { index } => out.push_str(&format!("[{index}]")),
            Segment::Map { key } | Segment::Enum { variant: key } => push_member(&mut out, key),
            Segment::Unknown => out.push_str(".?"),
        }
    }
    out
}

fn push_member(out: &mut String, name: &str) {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
    {
        out.push('.');
        out.push_str(name);
    } else {
        out.push_str(&format!("[{name:?}]"));
    }
}

/// Walks the text once and refuses the first object that repeats a member name, or nesting
/// beyond [`MAX_DEPTH`]. Syntax errors are left to serde (which reports them with their line and
/// column); this walk only needs to be right on valid JSON.
pub fn check_no_duplicates(text: &str) -> Result<(), StrictJsonError> {
    let mut walk = Walk {
        s: text.as_bytes(),
        i: 0,
        path: String::from("$"),
    };
    walk.ws();
    walk.value(0)
}

struct Walk<'a> {
    s: &'a [u8],
    i: usize,
    path: String,
}

/// What a syntax error stops the walk with: serde reports it properly.
struct Stop;

impl fmt::Debug for Stop {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Stop")
    }
}

impl Walk<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn value(&mut self, depth: usize) -> Result<(), StrictJsonError> {
        match self.value_inner(depth) {
            Ok(()) | Err(Ok(Stop)) => Ok(()),
            Err(Err(e)) => Err(e),
        }
    }

    /// `Err(Ok(Stop))`: not valid JSON, leave it to serde; `Err(Err(e))`: refused.
    fn value_inner(&mut self, depth: usize) -> Result<(), Result<Stop, StrictJsonError>> {
        if depth > MAX_DEPTH {
            return Err(Err(StrictJsonError {
                path: self.path.clone(),
                reason: format!("nested more than {MAX_DEPTH} levels deep"),
            }));
        }
        match self.peek().ok_or(Ok(Stop))? {
            b'"' => self.string().map(drop),
            b'[' => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(());
                }
                let mut index = 0usize;
                loop {
                    let len = self.path.len();
                    self.path.push_str(&format!("[{index}]"));
                    self.ws();
                    self.value_inner(depth + 1)?;
                    self.path.truncate(len);
                    self.ws();
                    match self.peek().ok_or(Ok(Stop))? {
                        b',' => self.i += 1,
                        b']' => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(Ok(Stop)),
                    }
                    index += 1;
                }
            }
            b'{' => {
                self.i += 1;
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(());
                }
                let mut names: Vec<String> = Vec::new();
                loop {
                    self.ws();
                    if self.peek() != Some(b'"') {
                        return Err(Ok(Stop));
                    }
                    let name = self.string()?;
                    let len = self.path.len();
                    push_member(&mut self.path, &name);
                    if names.contains(&name) {
                        return Err(Err(StrictJsonError {
                            path: self.path.clone(),
                            reason: format!("member {name:?} appears more than once"),
                        }));
                    }
                    names.push(name);
                    self.ws();
                    if self.peek() != Some(b':') {
                        return Err(Ok(Stop));
                    }
                    self.i += 1;
                    self.ws();
                    self.value_inner(depth + 1)?;
                    self.path.truncate(len);
                    self.ws();
                    match self.peek().ok_or(Ok(Stop))? {
                        b',' => self.i += 1,
                        b'}' => {
                            self.i += 1;
                            return Ok(());
                        }
                        _ => return Err(Ok(Stop)),
                    }
                }
            }
            _ => {
                // A number or a literal: skip to the next delimiter.
                while let Some(b) = self.peek() {
                    if matches!(b, b',' | b']' | b'}' | b' ' | b'\t' | b'\n' | b'\r') {
                        break;
                    }
                    self.i += 1;
                }
                Ok(())
            }
        }
    }

    /// A string literal's unescaped text (member names are compared unescaped: `"a"` and
    /// `"\u0061"` are the same name).
    fn string(&mut self) -> Result<String, Result<Stop, StrictJsonError>> {
        let start = self.i;
        self.i += 1;
        let mut escaped = false;
        loop {
            let b = self.peek().ok_or(Ok(Stop))?;
            self.i += 1;
            match (escaped, b) {
                (true, _) => escaped = false,
                (false, b'\\') => escaped = true,
                (false, b'"') => break,
                _ => {}
            }
        }
        let literal = std::str::from_utf8(&self.s[start..self.i]).map_err(|_| Ok(Stop))?;
        serde_json::from_str::<String>(literal).map_err(|_| Ok(Stop))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Inner {
        id: String,
        #[serde(default)]
        n: u64,
    }

    #[derive(Debug, Deserialize, PartialEq)]
    #[serde(deny_unknown_fields)]
    struct Outer {
        items: Vec<Inner>,
    }

    #[test]
    fn duplicates_unknown_members_and_bad_types_are_refused_with_their_path() {
        let ok: Outer = from_str(r#"{"items": [{"id": "a"}, {"id": "b", "n": 2}]}"#).unwrap();
        assert_eq!(ok.items.len(), 2);
        let e =
            from_str::<Outer>(r#"{"items": [{"id": "a"}, {"id": "b", "id": "c"}]}"#).unwrap_err();
        assert_eq!(e.path, "$.items[1].id");
        let e = from_str::<Outer>(r#"{"items": [{"id": "a", "\u0069d": "c"}]}"#).unwrap_err();
        assert_eq!(e.path, "$.items[0].id", "{e}");
        let e = from_str::<Outer>(r#"{"items": [{"id": "a", "x": 1}]}"#).unwrap_err();
        assert!(e.path.starts_with("$.items[0]"), "{e}");
        assert!(e.reason.contains("unknown field"), "{e}");
        let e = from_str::<Outer>(r#"{"items": [{"id": "a", "n": "2"}]}"#).unwrap_err();
        assert_eq!(e.path, "$.items[0].n", "{e}");
        assert!(from_str::<Outer>(r#"{"items": []} x"#).is_err());
        assert!(from_str::<Outer>(r#"{"items": [}"#).is_err());
        let deep = "[".repeat(MAX_DEPTH + 2) + &"]".repeat(MAX_DEPTH + 2);
        assert!(check_no_duplicates(&deep).is_err());
        // Same names in different objects are fine.
        check_no_duplicates(r#"[{"a": {"a": 1}}, {"a": 2}]"#).unwrap();
    }
}
