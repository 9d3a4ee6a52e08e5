//! [`JsonValue`]: a JSON value with one canonical text, so it can live inside signed and hashed
//! objects. BCS has no JSON (or floating-point) type, so in canonical bytes a value is the BCS
//! string of its canonical JSON text; in JSON it is the plain JSON value, written and read with
//! its exact text (serde_json's `RawValue`).
//!
//! Canonical JSON text is RFC 8259 JSON with: no whitespace; object members sorted by the UTF-8
//! bytes of their (unescaped) names, no name twice; strings escaped minimally (`\"`, `\\`,
//! `\b \f \n \r \t`, other control characters as lower-case `\u00xx`, everything else as UTF-8);
//! numbers kept as written (so `4.50` stays `4.50`: no value is ever converted to binary floating
//! point), except that the exponent marker is `e` and a `+` exponent sign is dropped.
//! Decoding canonical bytes rejects text not already in this form, so each value has exactly
//! one encoding and a signature over it cannot be changed by re-encoding. Canonicalisation is
//! done here, by hand, so it depends on no `serde_json` cargo feature or float parser.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// Deepest nesting of arrays and objects the parser accepts (payload limits are far lower).
pub const PARSE_DEPTH_LIMIT: usize = 64;

/// A JSON value held as its canonical text (see the module doc).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JsonValue(String);

/// Why a text is not an acceptable JSON value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonError {
    #[error("invalid JSON at byte {at}: {reason}")]
    Invalid { at: usize, reason: &'static str },
    #[error("JSON text is not in canonical form (expected {expected:?})")]
    NotCanonical { expected: String },
}

impl JsonValue {
    /// Parses any JSON text and canonicalises it.
    pub fn parse(text: &str) -> Result<JsonValue, JsonError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        let mut out = String::with_capacity(text.len());
        p.ws();
        p.value(&mut out, 0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("trailing characters"));
        }
        Ok(JsonValue(out))
    }

    /// The canonical form of a `serde_json` value (numbers as `serde_json` prints them).
    pub fn new(value: &Value) -> Result<JsonValue, JsonError> {
        JsonValue::parse(&value.to_string())
    }

    /// Accepts `text` only if it is already canonical.
    pub fn from_canonical_text(text: &str) -> Result<JsonValue, JsonError> {
        let v = JsonValue::parse(text)?;
        if v.0 != text {
            return Err(JsonError::NotCanonical {
                expected: v.0.chars().take(80).collect(),
            });
        }
        Ok(v)
    }

    /// The canonical text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Nesting depth: 0 for a scalar, 1 for a flat array or object, ...
    pub fn depth(&self) -> usize {
        let (mut depth, mut max, mut in_str, mut escaped) = (0usize, 0usize, false, false);
        for b in self.0.bytes() {
            if in_str {
                match (escaped, b) {
                    (true, _) => escaped = false,
                    (false, b'\\') => escaped = true,
                    (false, b'"') => in_str = false,
                    _ => {}
                }
                continue;
            }
            match b {
                b'"' => in_str = true,
                b'[' | b'{' => {
                    depth += 1;
                    max = max.max(depth);
                }
                b']' | b'}' => depth = depth.saturating_sub(1),
                _ => {}
            }
        }
        max
    }
}

impl fmt::Debug for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonValue({})", self.0)
    }
}

impl fmt::Display for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<i64> for JsonValue {
    fn from(v: i64) -> Self {
        JsonValue(v.to_string())
    }
}

impl From<&str> for JsonValue {
    fn from(v: &str) -> Self {
        let mut out = String::new();
        write_str(v, &mut out);
        JsonValue(out)
    }
}

impl Serialize for JsonValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            let raw = RawValue::from_string(self.0.clone()).map_err(serde::ser::Error::custom)?;
            raw.serialize(s)
        } else {
            s.serialize_str(&self.0)
        }
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            let raw = Box::<RawValue>::deserialize(d)?;
            JsonValue::parse(raw.get()).map_err(D::Error::custom)
        } else {
            let text = String::deserialize(d)?;
            JsonValue::from_canonical_text(&text).map_err(D::Error::custom)
        }
    }
}

/// Writes `s` as a canonical JSON string literal.
fn write_str(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A recursive-descent RFC 8259 parser that writes the canonical form as it goes.
struct Parser<'a> {
    s: &'a [u8],
    i: usize,
}

impl Parser<'_> {
    fn err(&self, reason: &'static str) -> JsonError {
        JsonError::Invalid { at: self.i, reason }
    }

    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    fn lit(&mut self, word: &'static str, out: &mut String) -> Result<(), JsonError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            out.push_str(word);
            Ok(())
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn value(&mut self, out: &mut String, depth: usize) -> Result<(), JsonError> {
        match self.peek() {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.lit("null", out),
            Some(b't') => self.lit("true", out),
            Some(b'f') => self.lit("false", out),
            Some(b'"') => {
                let s = self.string()?;
                write_str(&s, out);
                Ok(())
            }
            Some(b'-' | b'0'..=b'9') => self.number(out),
            Some(b'[') => {
                if depth >= PARSE_DEPTH_LIMIT {
                    return Err(self.err("nested too deep"));
                }
                self.i += 1;
                out.push('[');
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    out.push(']');
                    return Ok(());
                }
                loop {
                    self.ws();
                    self.value(out, depth + 1)?;
                    self.ws();
                    match self.peek() {
                        Some(b',') => {
                            self.i += 1;
                            out.push(',');
                        }
                        Some(b']') => {
                            self.i += 1;
                            out.push(']');
                            return Ok(());
                        }
                        _ => return Err(self.err("expected , or ]")),
                    }
                }
            }
            Some(b'{') => {
                if depth >= PARSE_DEPTH_LIMIT {
                    return Err(self.err("nested too deep"));
                }
                self.i += 1;
                let mut members: BTreeMap<String, String> = BTreeMap::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                } else {
                    loop {
                        self.ws();
                        if self.peek() != Some(b'"') {
                            return Err(self.err("expected a member name"));
                        }
                        let at = self.i;
                        let name = self.string()?;
                        self.ws();
                        if self.peek() != Some(b':') {
                            return Err(self.err("expected :"));
                        }
                        self.i += 1;
                        self.ws();
                        let mut v = String::new();
                        self.value(&mut v, depth + 1)?;
                        if members.insert(name, v).is_some() {
                            return Err(JsonError::Invalid {
                                at,
                                reason: "member name repeated",
                            });
                        }
                        self.ws();
                        match self.peek() {
                            Some(b',') => self.i += 1,
                            Some(b'}') => {
                                self.i += 1;
                                break;
                            }
                            _ => return Err(self.err("expected , or }")),
                        }
                    }
                }
                out.push('{');
                for (n, (name, v)) in members.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write_str(name, out);
                    out.push(':');
                    out.push_str(v);
                }
                out.push('}');
                Ok(())
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn digits(&mut self, out: &mut String) -> usize {
        let start = self.i;
        while let Some(d @ b'0'..=b'9') = self.peek() {
            out.push(d as char);
            self.i += 1;
        }
        self.i - start
    }

    fn number(&mut self, out: &mut String) -> Result<(), JsonError> {
        if self.peek() == Some(b'-') {
            self.i += 1;
            out.push('-');
        }
        match self.peek() {
            Some(b'0') => {
                self.i += 1;
                out.push('0');
            }
            Some(b'1'..=b'9') => {
                self.digits(out);
            }
            _ => return Err(self.err("expected a digit")),
        }
        if self.peek() == Some(b'.') {
            self.i += 1;
            out.push('.');
            if self.digits(out) == 0 {
                return Err(self.err("expected a digit after ."));
            }
        }
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            out.push('e');
            match self.peek() {
                Some(b'-') => {
                    self.i += 1;
                    out.push('-');
                }
                Some(b'+') => self.i += 1,
                _ => {}
            }
            if self.digits(out) == 0 {
                return Err(self.err("expected a digit in the exponent"));
            }
        }
        if matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err("leading zero"));
        }
        Ok(())
    }

    fn hex4(&mut self) -> Result<u32, JsonError> {
        // Exactly four hex digits: `from_str_radix` alone would also take a sign (`\\u+041`).
        let h = self
            .s
            .get(self.i..self.i + 4)
            .filter(|h| h.iter().all(u8::is_ascii_hexdigit))
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .ok_or_else(|| self.err("bad \\u escape"))?;
        self.i += 4;
        Ok(h)
    }

    /// Reads a string literal and returns its unescaped contents.
    fn string(&mut self) -> Result<String, JsonError> {
        self.i += 1; // the opening quote
        let mut buf = Vec::new();
        loop {
            let b = self.peek().ok_or_else(|| self.err("unterminated string"))?;
            self.i += 1;
            match b {
                b'"' => break,
                b'\\' => {
                    let e = self.peek().ok_or_else(|| self.err("unterminated string"))?;
                    self.i += 1;
                    let c = match e {
                        b'"' => '"',
                        b'\\' => '\\',
                        b'/' => '/',
                        b'b' => '\u{8}',
                        b'f' => '\u{c}',
                        b'n' => '\n',
                        b'r' => '\r',
                        b't' => '\t',
                        b'u' => {
                            let hi = self.hex4()?;
                            let code = if (0xD800..0xDC00).contains(&hi) {
                                if !self.s[self.i..].starts_with(b"\\u") {
                                    return Err(self.err("lone surrogate"));
                                }
                                self.i += 2;
                                let lo = self.hex4()?;
                                if !(0xDC00..0xE000).contains(&lo) {
                                    return Err(self.err("lone surrogate"));
                                }
                                0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00)
                            } else {
                                hi
                            };
                            char::from_u32(code).ok_or_else(|| self.err("lone surrogate"))?
                        }
                        _ => return Err(self.err("bad escape")),
                    };
                    let mut tmp = [0u8; 4];
                    buf.extend_from_slice(c.encode_utf8(&mut tmp).as_bytes());
                }
                b if b < 0x20 => return Err(self.err("control character in string")),
                b => buf.push(b),
            }
        }
        // The input was a &str and escapes produce whole characters, so this cannot fail.
        String::from_utf8(buf).map_err(|_| self.err("invalid UTF-8"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by fuzzing (`fuzz/`, target `json_value`): `u32::from_str_radix` takes a leading
    /// `+`, so `\u+041` was read as U+0041 where JSON allows exactly four hex digits.
    #[test]
    fn a_unicode_escape_is_exactly_four_hex_digits() {
        for bad in [r#""\u+041""#, r#""\u-041""#, r#""\u 041""#, r#""\u04""#] {
            assert!(
                matches!(
                    JsonValue::parse(bad),
                    Err(JsonError::Invalid {
                        reason: "bad \\u escape",
                        ..
                    })
                ),
                "{bad} was accepted"
            );
        }
        assert_eq!(
            JsonValue::parse(r#""\u0041\u00e9""#).unwrap().as_str(),
            "\"A\u{e9}\""
        );
    }

    #[test]
    fn canonical_form_sorts_keys_and_keeps_numbers_as_written() {
        let v = JsonValue::parse(
            " { \"b\": [1, 2.50, -0, 1E+2, 3e-07], \"a\": {\"y\": null, \"x\": \"\\u00e9\\/\\u001f\\n\"} } ",
        )
        .unwrap();
        assert_eq!(
            v.as_str(),
            r#"{"a":{"x":"é/\u001f\n","y":null},"b":[1,2.50,-0,1e2,3e-07]}"#
        );
        assert_eq!(v.depth(), 2);
        assert_eq!(JsonValue::from_canonical_text(v.as_str()).unwrap(), v);
        assert_eq!(JsonValue::from(5).depth(), 0);
        assert_eq!(JsonValue::from("a[{\"").depth(), 0);
        assert_eq!(JsonValue::from("a\"\u{1}").as_str(), r#""a\"\u0001""#);
        let emoji = JsonValue::parse(r#""\ud83d\ude00""#).unwrap();
        assert_eq!(emoji.as_str(), "\"😀\"");
        assert_eq!(
            JsonValue::parse(r#"{"b":{},"a":[]}"#).unwrap().as_str(),
            r#"{"a":[],"b":{}}"#
        );
    }

    #[test]
    fn bcs_form_is_the_canonical_string_and_is_strict() {
        let v = JsonValue::parse(r#"{"t": 4.50}"#).unwrap();
        let bytes = bcs::to_bytes(&v).unwrap();
        assert_eq!(bcs::to_bytes(&v.as_str()).unwrap(), bytes);
        assert_eq!(bcs::from_bytes::<JsonValue>(&bytes).unwrap(), v);
        let sloppy = bcs::to_bytes(r#"{ "t": 4.50 }"#).unwrap();
        assert!(bcs::from_bytes::<JsonValue>(&sloppy).is_err());
        // JSON keeps the exact text, so a JSON round trip keeps the canonical bytes.
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(json, r#"{"t":4.50}"#);
        assert_eq!(serde_json::from_str::<JsonValue>(&json).unwrap(), v);
        let wrapped: BTreeMap<String, JsonValue> =
            serde_json::from_str(r#"{"k": {"z": 1.0, "a": [ true ]}}"#).unwrap();
        assert_eq!(wrapped["k"].as_str(), r#"{"a":[true],"z":1.0}"#);
    }

    #[test]
    fn rejects_garbage() {
        for bad in [
            "",
            "{",
            "[1,]",
            "01",
            "1.",
            "-",
            "1e",
            ".5",
            "nul",
            "\"\\x\"",
            "\"\\ud800\"",
            "\"a\u{1}\"",
            "{\"a\":1,\"a\":2}",
            "{1:2}",
            "1 2",
            "NaN",
        ] {
            assert!(JsonValue::parse(bad).is_err(), "{bad:?}");
        }
        let deep = "[".repeat(PARSE_DEPTH_LIMIT + 1) + &"]".repeat(PARSE_DEPTH_LIMIT + 1);
        assert!(JsonValue::parse(&deep).is_err());
        assert!(JsonValue::from_canonical_text("1E2").is_err());
        assert!(JsonValue::from_canonical_text("[1, 2]").is_err());
        assert!(JsonValue::from_canonical_text("\"\\u00e9\"").is_err());
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "\\PC{0,8}".prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 32, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
                proptest::collection::btree_map("\\PC{0,6}", inner, 0..6)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    proptest::proptest! {
        #[test]
        fn formatting_does_not_change_the_canonical_form(v in arb_json()) {
            let compact = JsonValue::parse(&v.to_string()).unwrap();
            let pretty = JsonValue::parse(&serde_json::to_string_pretty(&v).unwrap()).unwrap();
            proptest::prop_assert_eq!(&compact, &pretty);
            proptest::prop_assert_eq!(JsonValue::from_canonical_text(compact.as_str()), Ok(compact.clone()));
            let bytes = bcs::to_bytes(&compact).unwrap();
            proptest::prop_assert_eq!(bcs::from_bytes::<JsonValue>(&bytes).unwrap(), compact);
        }

        #[test]
        fn parsing_never_panics_and_canonical_form_is_a_fixed_point(
            text in "[\\[\\]{}\",:0-9eE.+\\- tfalsnu\\\\/é]{0,40}|\\PC{0,40}"
        ) {
            if let Ok(v) = JsonValue::parse(&text) {
                proptest::prop_assert_eq!(JsonValue::from_canonical_text(v.as_str()), Ok(v.clone()));
                let json = serde_json::to_string(&v).unwrap();
                proptest::prop_assert_eq!(serde_json::from_str::<JsonValue>(&json).unwrap(), v);
            }
        }
    }
}
