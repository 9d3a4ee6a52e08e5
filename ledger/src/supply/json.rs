//! [`JsonValue`]: a free-form value (an item property, a reading) with one canonical encoding
//! that does not depend on how its JSON was written, so it can live inside signed and hashed
//! objects and survive any JSON tool (`jq`, Python's `json`, JavaScript's `JSON`).
//!
//! A value is typed: null, a boolean, an integer, a decimal, a string, an array, or an object.
//! Its canonical bytes (BCS) are an enum:
//!
//! | index | type | encoding after the index |
//! |---|---|---|
//! | 0 | null | nothing |
//! | 1 | boolean | `00` false, `01` true |
//! | 2 | integer | i64, 8 bytes little-endian; only `-(2^53-1)..=2^53-1` |
//! | 3 | decimal | mantissa i64 then exponent i16, little-endian: the value `mantissa * 10^exponent` |
//! | 4 | string | ULEB128 byte length, UTF-8 |
//! | 5 | array | ULEB128 count, then each value |
//! | 6 | object | ULEB128 count, then each member as name (string) then value, names strictly increasing by their UTF-8 bytes |
//!
//! Numbers are values, not texts: `412.50`, `412.5` and `4.125e2` are one decimal, and `1.0`,
//! `1` and `1e0` one integer. A number is accepted only if every JSON tool keeps it: an integer
//! of magnitude at most 2^53 - 1 (exact in a JavaScript number), or a number of at most 15
//! significant digits (exact through a binary64 float and back) between 1e-300 and 1e300.
//! Such a number has exactly one encoding: an integer when its value is an integer within
//! 2^53 - 1, else a decimal whose mantissa has no trailing zero. `-0` is `0`.
//!
//! Decoding canonical bytes refuses anything that is not in this form, so each value has one
//! encoding and a signature over it cannot be changed by re-encoding.

use std::fmt;

use serde::de::{self, DeserializeSeed, Error as _, SeqAccess, VariantAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::value::RawValue;
use serde_json::Value;

/// Deepest nesting of arrays and objects the parsers accept (payload limits are far lower).
pub const PARSE_DEPTH_LIMIT: usize = 64;
/// Largest integer magnitude kept as an integer: 2^53 - 1, exact in every JSON tool.
pub const MAX_SAFE_INTEGER: i64 = (1 << 53) - 1;
/// Most significant digits of a decimal: binary64 keeps 15 exactly.
pub const MAX_DECIMAL_DIGITS: usize = 15;
/// Decimals lie between `10^-MAX_DECIMAL_EXPONENT` and `10^MAX_DECIMAL_EXPONENT`.
pub const MAX_DECIMAL_EXPONENT: i32 = 300;

/// A free-form value in its canonical form (see the module doc).
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct JsonValue(Node);

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
enum Node {
    Null,
    Bool(bool),
    Integer(i64),
    Decimal {
        mantissa: i64,
        exponent: i16,
    },
    String(String),
    Array(Vec<Node>),
    /// Sorted by name bytes, no name twice.
    Object(Vec<(String, Node)>),
}

const VARIANTS: &[&str] = &[
    "null", "bool", "integer", "decimal", "string", "array", "object",
];

/// Why a text or a byte string is not an acceptable value.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JsonError {
    #[error("invalid JSON at byte {at}: {reason}")]
    Invalid { at: usize, reason: &'static str },
    #[error(
        "number {text} cannot be kept exactly by every JSON tool: use an integer of at most \
         2^53 - 1, or at most 15 significant digits between 1e-300 and 1e300 (or a string)"
    )]
    Number { text: String },
    #[error("value is not in canonical form: {reason}")]
    NotCanonical { reason: &'static str },
}

impl JsonValue {
    /// Parses any JSON text (RFC 8259; no member name twice) into its canonical value.
    pub fn parse(text: &str) -> Result<JsonValue, JsonError> {
        let mut p = Parser {
            s: text.as_bytes(),
            i: 0,
        };
        p.ws();
        let node = p.value(0)?;
        p.ws();
        if p.i != p.s.len() {
            return Err(p.err("trailing characters"));
        }
        Ok(JsonValue(node))
    }

    /// The canonical value of a `serde_json` value.
    pub fn new(value: &Value) -> Result<JsonValue, JsonError> {
        JsonValue::parse(&value.to_string())
    }

    /// Nesting depth: 0 for a scalar, 1 for an array or object of scalars (or an empty one),
    /// one more for each level of arrays and objects inside.
    pub fn depth(&self) -> usize {
        self.0.depth()
    }

    /// Length of the canonical bytes.
    pub fn encoded_len(&self) -> usize {
        bcs::serialized_size(self).unwrap_or(usize::MAX)
    }

    /// The value as JSON text: no whitespace, members sorted, numbers in a fixed form.
    pub fn to_json_text(&self) -> String {
        let mut out = String::new();
        self.0.write_json(&mut out);
        out
    }
}

impl Node {
    fn depth(&self) -> usize {
        match self {
            Node::Array(items) => 1 + items.iter().map(Node::depth).max().unwrap_or(0),
            Node::Object(members) => 1 + members.iter().map(|(_, v)| v.depth()).max().unwrap_or(0),
            _ => 0,
        }
    }

    fn write_json(&self, out: &mut String) {
        match self {
            Node::Null => out.push_str("null"),
            Node::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
            Node::Integer(i) => out.push_str(&i.to_string()),
            Node::Decimal { mantissa, exponent } => {
                out.push_str(&decimal_text(*mantissa, *exponent))
            }
            Node::String(s) => write_str(s, out),
            Node::Array(items) => {
                out.push('[');
                for (n, v) in items.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    v.write_json(out);
                }
                out.push(']');
            }
            Node::Object(members) => {
                out.push('{');
                for (n, (k, v)) in members.iter().enumerate() {
                    if n > 0 {
                        out.push(',');
                    }
                    write_str(k, out);
                    out.push(':');
                    v.write_json(out);
                }
                out.push('}');
            }
        }
    }
}

/// `mantissa * 10^exponent` as a JSON number: positional when short, else `<m>e<exp>`.
fn decimal_text(mantissa: i64, exponent: i16) -> String {
    let digits = mantissa.unsigned_abs().to_string();
    let sign = if mantissa < 0 { "-" } else { "" };
    let exp = i32::from(exponent);
    let len = digits.len() as i32;
    if (-20..0).contains(&exp) {
        let point = len + exp;
        if point > 0 {
            let (int, frac) = digits.split_at(point as usize);
            return format!("{sign}{int}.{frac}");
        }
        return format!("{sign}0.{}{digits}", "0".repeat((-point) as usize));
    }
    if exp >= 0 && len + exp <= 21 {
        return format!("{sign}{digits}{}", "0".repeat(exp as usize));
    }
    format!("{sign}{digits}e{exp}")
}

/// The canonical number of a JSON number's parts: `negative`, its digits without the point
/// (`int_digits` then `frac_digits`) and its written exponent. `None` if no JSON tool keeps it.
fn canonical_number(negative: bool, int_digits: &str, frac_digits: &str, exp: i64) -> Option<Node> {
    let all = format!("{int_digits}{frac_digits}");
    let trimmed = all.trim_start_matches('0');
    if trimmed.is_empty() {
        return Some(Node::Integer(0));
    }
    let significant = trimmed.trim_end_matches('0');
    let trailing = (trimmed.len() - significant.len()) as i64;
    let exponent = exp
        .checked_sub(frac_digits.len() as i64)?
        .checked_add(trailing)?;
    let count = significant.len() as i64;
    // An integer within 2^53 - 1 (at most 16 digits, so the arithmetic below cannot overflow).
    if exponent >= 0 && count.saturating_add(exponent) <= 16 {
        let magnitude = significant.parse::<i64>().ok()? * 10i64.pow(exponent as u32);
        if magnitude <= MAX_SAFE_INTEGER {
            return Some(Node::Integer(if negative { -magnitude } else { magnitude }));
        }
    }
    if count > MAX_DECIMAL_DIGITS as i64
        || exponent < -i64::from(MAX_DECIMAL_EXPONENT)
        || count.saturating_add(exponent) > i64::from(MAX_DECIMAL_EXPONENT)
    {
        return None;
    }
    let mantissa = significant.parse::<i64>().ok()?;
    Some(Node::Decimal {
        mantissa: if negative { -mantissa } else { mantissa },
        exponent: exponent as i16,
    })
}

/// Whether a decoded decimal is the one canonical form of its value.
fn decimal_is_canonical(mantissa: i64, exponent: i16) -> bool {
    if mantissa == 0 || mantissa % 10 == 0 || mantissa.unsigned_abs() >= 10u64.pow(15) {
        return false;
    }
    let digits = mantissa.unsigned_abs().to_string().len() as i32;
    let exp = i32::from(exponent);
    if exp < -MAX_DECIMAL_EXPONENT || digits + exp > MAX_DECIMAL_EXPONENT {
        return false;
    }
    // An integer value within 2^53 - 1 must be an integer.
    !(exp >= 0
        && digits + exp <= 16
        && mantissa.unsigned_abs() * 10u64.pow(exp as u32) <= MAX_SAFE_INTEGER as u64)
}

impl fmt::Debug for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "JsonValue({})", self.to_json_text())
    }
}

impl fmt::Display for JsonValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_json_text())
    }
}

impl From<i32> for JsonValue {
    fn from(v: i32) -> Self {
        JsonValue(Node::Integer(i64::from(v)))
    }
}

impl From<bool> for JsonValue {
    fn from(v: bool) -> Self {
        JsonValue(Node::Bool(v))
    }
}

impl From<&str> for JsonValue {
    fn from(v: &str) -> Self {
        JsonValue(Node::String(v.to_string()))
    }
}

impl Serialize for JsonValue {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(s)
    }
}

impl Serialize for Node {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        if s.is_human_readable() {
            return match self {
                Node::Null => s.serialize_unit(),
                Node::Bool(b) => s.serialize_bool(*b),
                Node::Integer(i) => s.serialize_i64(*i),
                // At most 15 significant digits: the float's shortest text is this decimal.
                Node::Decimal { mantissa, exponent } => {
                    let text = decimal_text(*mantissa, *exponent);
                    s.serialize_f64(text.parse().map_err(serde::ser::Error::custom)?)
                }
                Node::String(v) => s.serialize_str(v),
                Node::Array(items) => {
                    let mut seq = s.serialize_seq(Some(items.len()))?;
                    for v in items {
                        seq.serialize_element(v)?;
                    }
                    seq.end()
                }
                Node::Object(members) => {
                    let mut map = s.serialize_map(Some(members.len()))?;
                    for (k, v) in members {
                        map.serialize_entry(k, v)?;
                    }
                    map.end()
                }
            };
        }
        let name = "JsonValue";
        match self {
            Node::Null => s.serialize_unit_variant(name, 0, VARIANTS[0]),
            Node::Bool(b) => s.serialize_newtype_variant(name, 1, VARIANTS[1], b),
            Node::Integer(i) => s.serialize_newtype_variant(name, 2, VARIANTS[2], i),
            Node::Decimal { mantissa, exponent } => {
                s.serialize_newtype_variant(name, 3, VARIANTS[3], &(mantissa, exponent))
            }
            Node::String(v) => s.serialize_newtype_variant(name, 4, VARIANTS[4], v),
            Node::Array(items) => s.serialize_newtype_variant(name, 5, VARIANTS[5], items),
            Node::Object(members) => s.serialize_newtype_variant(name, 6, VARIANTS[6], members),
        }
    }
}

impl<'de> Deserialize<'de> for JsonValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        if d.is_human_readable() {
            // The exact text: a number is read from its digits, never through a float.
            let raw = Box::<RawValue>::deserialize(d)?;
            JsonValue::parse(raw.get()).map_err(D::Error::custom)
        } else {
            NodeSeed { depth: 0 }.deserialize(d).map(JsonValue)
        }
    }
}

/// Reads one canonical value at nesting `depth`, refusing deeper than [`PARSE_DEPTH_LIMIT`].
#[derive(Clone, Copy)]
struct NodeSeed {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for NodeSeed {
    type Value = Node;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        if self.depth > PARSE_DEPTH_LIMIT {
            return Err(D::Error::custom("value nested too deep"));
        }
        d.deserialize_enum("JsonValue", VARIANTS, self)
    }
}

impl<'de> Visitor<'de> for NodeSeed {
    type Value = Node;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a canonical value")
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> Result<Node, A::Error> {
        let (index, variant): (u32, _) = data.variant()?;
        let not_canonical = |reason| A::Error::custom(JsonError::NotCanonical { reason });
        match index {
            0 => variant.unit_variant().map(|()| Node::Null),
            1 => variant.newtype_variant().map(Node::Bool),
            2 => {
                let i: i64 = variant.newtype_variant()?;
                if i.unsigned_abs() > MAX_SAFE_INTEGER as u64 {
                    return Err(not_canonical("integer beyond 2^53 - 1"));
                }
                Ok(Node::Integer(i))
            }
            3 => {
                let (mantissa, exponent): (i64, i16) = variant.newtype_variant()?;
                if !decimal_is_canonical(mantissa, exponent) {
                    return Err(not_canonical("decimal not in its one form"));
                }
                Ok(Node::Decimal { mantissa, exponent })
            }
            4 => variant.newtype_variant().map(Node::String),
            5 => variant
                .newtype_variant_seed(Items { depth: self.depth })
                .map(Node::Array),
            6 => {
                let members = variant.newtype_variant_seed(Members { depth: self.depth })?;
                if members
                    .windows(2)
                    .any(|w| w[0].0.as_bytes() >= w[1].0.as_bytes())
                {
                    return Err(not_canonical("object members not strictly sorted"));
                }
                Ok(Node::Object(members))
            }
            _ => Err(A::Error::custom(format!("value type {index} is unknown"))),
        }
    }
}

struct Items {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Items {
    type Value = Vec<Node>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Vec<Node>, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Items {
    type Value = Vec<Node>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("array items")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<Node>, A::Error> {
        let mut out = Vec::new();
        let seed = NodeSeed {
            depth: self.depth + 1,
        };
        while let Some(v) = seq.next_element_seed(seed)? {
            out.push(v);
        }
        Ok(out)
    }
}

struct Members {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Members {
    type Value = Vec<(String, Node)>;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_seq(self)
    }
}

impl<'de> Visitor<'de> for Members {
    type Value = Vec<(String, Node)>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("object members")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut out = Vec::new();
        let seed = Member {
            depth: self.depth + 1,
        };
        while let Some(m) = seq.next_element_seed(seed)? {
            out.push(m);
        }
        Ok(out)
    }
}

#[derive(Clone, Copy)]
struct Member {
    depth: usize,
}

impl<'de> DeserializeSeed<'de> for Member {
    type Value = (String, Node);
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_tuple(2, self)
    }
}

impl<'de> Visitor<'de> for Member {
    type Value = (String, Node);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a member name and value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let name: String = seq
            .next_element()?
            .ok_or_else(|| A::Error::invalid_length(0, &self))?;
        let value = seq
            .next_element_seed(NodeSeed { depth: self.depth })?
            .ok_or_else(|| A::Error::invalid_length(1, &self))?;
        Ok((name, value))
    }
}

/// Writes `s` as a JSON string literal, escaping minimally.
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

/// A recursive-descent RFC 8259 parser building the canonical value.
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

    fn lit(&mut self, word: &'static str, node: Node) -> Result<Node, JsonError> {
        if self.s[self.i..].starts_with(word.as_bytes()) {
            self.i += word.len();
            Ok(node)
        } else {
            Err(self.err("unknown literal"))
        }
    }

    fn value(&mut self, depth: usize) -> Result<Node, JsonError> {
        match self.peek() {
            None => Err(self.err("unexpected end")),
            Some(b'n') => self.lit("null", Node::Null),
            Some(b't') => self.lit("true", Node::Bool(true)),
            Some(b'f') => self.lit("false", Node::Bool(false)),
            Some(b'"') => self.string().map(Node::String),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'[') => {
                if depth >= PARSE_DEPTH_LIMIT {
                    return Err(self.err("nested too deep"));
                }
                self.i += 1;
                let mut items = Vec::new();
                self.ws();
                if self.peek() == Some(b']') {
                    self.i += 1;
                    return Ok(Node::Array(items));
                }
                loop {
                    self.ws();
                    items.push(self.value(depth + 1)?);
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b']') => {
                            self.i += 1;
                            return Ok(Node::Array(items));
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
                let mut members: Vec<(String, Node)> = Vec::new();
                self.ws();
                if self.peek() == Some(b'}') {
                    self.i += 1;
                    return Ok(Node::Object(members));
                }
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
                    let v = self.value(depth + 1)?;
                    if members.iter().any(|(n, _)| *n == name) {
                        return Err(JsonError::Invalid {
                            at,
                            reason: "member name repeated",
                        });
                    }
                    members.push((name, v));
                    self.ws();
                    match self.peek() {
                        Some(b',') => self.i += 1,
                        Some(b'}') => {
                            self.i += 1;
                            members.sort_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                            return Ok(Node::Object(members));
                        }
                        _ => return Err(self.err("expected , or }")),
                    }
                }
            }
            Some(_) => Err(self.err("unexpected character")),
        }
    }

    fn digits(&mut self) -> &str {
        let start = self.i;
        while let Some(b'0'..=b'9') = self.peek() {
            self.i += 1;
        }
        // Only ASCII digits were consumed.
        std::str::from_utf8(&self.s[start..self.i]).unwrap_or("")
    }

    fn number(&mut self) -> Result<Node, JsonError> {
        let start = self.i;
        let negative = self.peek() == Some(b'-');
        if negative {
            self.i += 1;
        }
        let int = match self.peek() {
            Some(b'0') => {
                self.i += 1;
                "0".to_string()
            }
            Some(b'1'..=b'9') => self.digits().to_string(),
            _ => return Err(self.err("expected a digit")),
        };
        let mut frac = String::new();
        if self.peek() == Some(b'.') {
            self.i += 1;
            frac = self.digits().to_string();
            if frac.is_empty() {
                return Err(self.err("expected a digit after ."));
            }
        }
        let mut exp: i64 = 0;
        if matches!(self.peek(), Some(b'e' | b'E')) {
            self.i += 1;
            let exp_negative = match self.peek() {
                Some(b'-') => {
                    self.i += 1;
                    true
                }
                Some(b'+') => {
                    self.i += 1;
                    false
                }
                _ => false,
            };
            let digits = self.digits();
            if digits.is_empty() {
                return Err(self.err("expected a digit in the exponent"));
            }
            // Beyond any accepted exponent either way; saturating keeps it refused.
            // Capped at i64::MAX / 2 (an exponent of i64::MAX itself overflowed the sums below).
            let magnitude = digits
                .trim_start_matches('0')
                .parse::<i64>()
                .unwrap_or(if digits.trim_start_matches('0').is_empty() {
                    0
                } else {
                    i64::MAX
                })
                .min(i64::MAX / 2);
            exp = if exp_negative { -magnitude } else { magnitude };
        }
        if matches!(self.peek(), Some(b'0'..=b'9')) {
            return Err(self.err("leading zero"));
        }
        let text = String::from_utf8_lossy(&self.s[start..self.i]).into_owned();
        canonical_number(negative, &int, &frac, exp).ok_or(JsonError::Number {
            text: text.chars().take(40).collect(),
        })
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
            JsonValue::parse(r#""\u0041\u00e9""#)
                .unwrap()
                .to_json_text(),
            "\"A\u{e9}\""
        );
    }

    fn v(text: &str) -> JsonValue {
        JsonValue::parse(text).unwrap_or_else(|e| panic!("{text}: {e}"))
    }

    fn hex(value: &JsonValue) -> String {
        hex::encode(bcs::to_bytes(value).unwrap())
    }

    #[test]
    fn numbers_are_values_not_texts() {
        for (a, b) in [
            ("412.50", "412.5"),
            ("4.125e2", "412.5"),
            ("1.0", "1"),
            ("1e0", "1"),
            ("-0", "0"),
            ("-0.0e5", "0"),
            ("100", "1E2"),
            ("1e20", "100000000000000000000"),
            ("0.000001", "1e-6"),
            ("9007199254740991", "9007199254740991.000"),
        ] {
            assert_eq!(v(a), v(b), "{a} {b}");
            assert_eq!(hex(&v(a)), hex(&v(b)));
        }
        assert_ne!(v("1"), v("\"1\""));
        assert_ne!(v("1.5"), v("1.50001"));
        // The vectors of SIGNING.md's value table.
        assert_eq!(hex(&v("412.50")), "031d10000000000000ffff");
        assert_eq!(hex(&v("-7")), "02f9ffffffffffffff");
        assert_eq!(hex(&v("1e20")), "0301000000000000001400");
        assert_eq!(hex(&v("null")), "00");
        assert_eq!(hex(&v("true")), "0101");
        assert_eq!(hex(&v(r#""L-42""#)), "04044c2d3432");
        assert_eq!(
            hex(&v(r#"{"b":[1],"a":null}"#)),
            "060201610001620501020100000000000000"
        );
    }

    #[test]
    fn numbers_no_json_tool_keeps_are_refused() {
        for bad in [
            "9007199254740992",
            "12345678901234567",
            "0.1234567890123456",
            "1e301",
            "1e-301",
            "1e99999999999999999999",
            "1.5e-400",
            // An exponent of exactly i64::MAX (found by the json_value fuzz target: adding the
            // digit count overflowed).
            "2.00E0009223372036854775807",
            "2E9223372036854775807",
            "2.5E-9223372036854775807",
        ] {
            assert!(
                matches!(JsonValue::parse(bad), Err(JsonError::Number { .. })),
                "{bad}"
            );
        }
        // 15 significant digits at any magnitude are kept.
        assert_eq!(
            v("1.23456789012345e24").to_json_text(),
            "123456789012345e10"
        );
        v("-0.123456789012345");
    }

    #[test]
    fn canonical_form_sorts_members_and_json_view_round_trips() {
        let x = v(
            r#" { "b": [1, 2.50, -0, 1E+2, 3e-07], "a": {"y": null, "x": "\u00e9\/\u001f\n"} } "#,
        );
        assert_eq!(
            x.to_json_text(),
            r#"{"a":{"x":"é/\u001f\n","y":null},"b":[1,2.5,0,100,0.0000003]}"#
        );
        assert_eq!(x.depth(), 2);
        assert_eq!(v(&x.to_json_text()), x);
        let json = serde_json::to_string(&x).unwrap();
        assert_eq!(serde_json::from_str::<JsonValue>(&json).unwrap(), x);
        assert_eq!(JsonValue::from(5).depth(), 0);
        assert_eq!(v("[]").depth(), 1);
        assert_eq!(v("[[[]]]").depth(), 3);
        assert_eq!(v(r#""\ud83d\ude00""#).to_json_text(), "\"😀\"");
    }

    #[test]
    fn bcs_form_is_strict() {
        let x = v(r#"{"t": 4.50, "a": [true, "s"]}"#);
        let bytes = bcs::to_bytes(&x).unwrap();
        assert_eq!(bcs::from_bytes::<JsonValue>(&bytes).unwrap(), x);
        for bad in [
            // decimal with a trailing zero in its mantissa (4.50 as 450e-2)
            "03c201000000000000feff",
            // decimal that is an integer within 2^53 - 1 (5e0)
            "0305000000000000000000",
            // integer beyond 2^53 - 1
            "020000000000002000",
            // members out of order
            "0602016200016100",
            "0602016100016100",
            // unknown type
            "07",
            // bool 2
            "0102",
        ] {
            let b = hex::decode(bad).unwrap();
            assert!(bcs::from_bytes::<JsonValue>(&b).is_err(), "{bad}");
        }
        let deep = "[".repeat(PARSE_DEPTH_LIMIT + 1) + &"]".repeat(PARSE_DEPTH_LIMIT + 1);
        assert!(JsonValue::parse(&deep).is_err());
        let mut nested = vec![];
        for _ in 0..=PARSE_DEPTH_LIMIT + 1 {
            nested.extend_from_slice(&[5, 1]);
        }
        nested.extend_from_slice(&[5, 0]);
        assert!(bcs::from_bytes::<JsonValue>(&nested).is_err());
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
            "{\"a\":1,\"\\u0061\":2}",
            "{1:2}",
            "1 2",
            "NaN",
        ] {
            assert!(JsonValue::parse(bad).is_err(), "{bad:?}");
        }
    }

    fn arb_json() -> impl proptest::strategy::Strategy<Value = Value> {
        use proptest::prelude::*;
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            (-MAX_SAFE_INTEGER..=MAX_SAFE_INTEGER).prop_map(Value::from),
            // A float printed with 15 significant digits: kept exactly.
            (-1e12f64..1e12).prop_map(|f| {
                let text = format!("{f:.14e}");
                serde_json::from_str::<Value>(&text).unwrap()
            }),
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
        /// What a JSON tool does to a value (reformat, floats through binary64) keeps it.
        #[test]
        fn formatting_and_float_round_trips_keep_the_value(x in arb_json()) {
            let value = JsonValue::new(&x).unwrap();
            let pretty = JsonValue::parse(&serde_json::to_string_pretty(&x).unwrap()).unwrap();
            proptest::prop_assert_eq!(&value, &pretty);
            // Through our own JSON view, then a float-parsing tool (serde_json's Value).
            let view = serde_json::to_string(&value).unwrap();
            let tool: Value = serde_json::from_str(&view).unwrap();
            let back = JsonValue::new(&tool).unwrap();
            proptest::prop_assert_eq!(&back, &value);
            let bytes = bcs::to_bytes(&value).unwrap();
            proptest::prop_assert_eq!(bcs::from_bytes::<JsonValue>(&bytes).unwrap(), value);
        }

        #[test]
        fn parsing_never_panics_and_values_round_trip(
            text in "[\\[\\]{}\",:0-9eE.+\\- tfalsnu\\\\/é]{0,40}|\\PC{0,40}"
        ) {
            if let Ok(value) = JsonValue::parse(&text) {
                proptest::prop_assert_eq!(JsonValue::parse(&value.to_json_text()), Ok(value.clone()));
                let bytes = bcs::to_bytes(&value).unwrap();
                proptest::prop_assert_eq!(bcs::from_bytes::<JsonValue>(&bytes).unwrap(), value);
            }
        }
    }
}
