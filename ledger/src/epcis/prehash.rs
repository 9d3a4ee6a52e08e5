//! The CBV 2.0 event hash algorithm's pre-hash string of one EPCIS event, computed the way GS1's
//! reference implementation (`epcis-event-hash-generator`) computes it from a JSON-LD document,
//! so that both give every event the same hash:
//!
//! 1. bare CBV terms (`"shipping"`) become Web URIs where the event's vocabulary fields use them
//!    ([`expanded_vocabulary`], [`replace_bare_strings`]);
//! 2. the event becomes a tree of (name, value, children) nodes, members named by their
//!    namespace (`{https://ns.example.com/epcis/}myField`), JSON lists flattened and renamed as
//!    in the XML binding ([`to_node`], [`correct_structure`]);
//! 3. the standard fields are written in the canonical property order ([`PROP_ORDER`]), list
//!    members sorted, each value canonized ([`super::values`], [`super::gs1`]); user extensions
//!    inside a standard field follow that field; whatever is left (`ilmd`, the source,
//!    destination and business transaction lists, event-level extensions) follows, sorted.
//!
//! Where the reference implementation depends on the order of members in the JSON text (the
//! two members of a source, destination or business transaction entry), this module uses the
//! order GS1 writes them in (`type` first), which is also what the XML binding gives.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value;

use super::values::{numeric, strip, utc_millis_text, web_vocabulary};
use super::vocab::{self, Vocabulary};
use super::{gs1, HashError};

/// One element of the tree: name, text value, children.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
struct Node {
    key: String,
    value: String,
    children: Vec<Node>,
    /// The pre-hash text of a source, destination or business transaction list, written whole
    /// (these lists never match the ordered traversal and always end up with the leftovers).
    whole: Option<String>,
}

impl Node {
    fn new(key: impl Into<String>, value: impl Into<String>, children: Vec<Node>) -> Node {
        Node {
            key: key.into(),
            value: value.into(),
            children,
            whole: None,
        }
    }
}

/// The canonical property order: a field name and the order of its own children, if any.
struct Order(&'static str, Option<&'static [Order]>);

const QUANTITY: &[Order] = &[Order(
    "quantityElement",
    Some(&[
        Order("epcClass", None),
        Order("quantity", None),
        Order("uom", None),
    ]),
)];

const EPC: &[Order] = &[Order("epc", None)];

const SENSOR_ELEMENT: &[Order] = &[Order(
    "sensorElement",
    Some(&[
        Order(
            "sensorMetadata",
            Some(&[
                Order("time", None),
                Order("startTime", None),
                Order("endTime", None),
                Order("deviceID", None),
                Order("deviceMetadata", None),
                Order("rawData", None),
                Order("dataProcessingMethod", None),
                Order("bizRules", None),
            ]),
        ),
        Order(
            "sensorReport",
            Some(&[
                Order("type", None),
                Order("exception", None),
                Order("deviceID", None),
                Order("deviceMetadata", None),
                Order("rawData", None),
                Order("dataProcessingMethod", None),
                Order("time", None),
                Order("microorganism", None),
                Order("chemicalSubstance", None),
                Order("value", None),
                Order("component", None),
                Order("stringValue", None),
                Order("booleanValue", None),
                Order("hexBinaryValue", None),
                Order("uriValue", None),
                Order("minValue", None),
                Order("maxValue", None),
                Order("meanValue", None),
                Order("sDev", None),
                Order("percRank", None),
                Order("percValue", None),
                Order("uom", None),
                Order("coordinateReferenceSystem", None),
            ]),
        ),
    ]),
)];

/// The order the reference implementation writes an event's standard fields in.
const PROP_ORDER: &[Order] = &[
    Order("eventTime", None),
    Order("eventTimeZoneOffset", None),
    Order("certificationInfo", None),
    Order("parentID", None),
    Order("epcList", Some(EPC)),
    Order("inputEPCList", Some(EPC)),
    Order("childEPCs", Some(EPC)),
    Order("quantityList", Some(QUANTITY)),
    Order("childQuantityList", Some(QUANTITY)),
    Order("inputQuantityList", Some(QUANTITY)),
    Order("outputEPCList", Some(EPC)),
    Order("outputQuantityList", Some(QUANTITY)),
    Order("action", None),
    Order("transformationID", None),
    Order("bizStep", None),
    Order("disposition", None),
    Order(
        "persistentDisposition",
        Some(&[Order("set", None), Order("unset", None)]),
    ),
    Order("readPoint", Some(&[Order("id", None)])),
    Order("bizLocation", Some(&[Order("id", None)])),
    Order("sensorElementList", Some(SENSOR_ELEMENT)),
];

/// Event members the hash leaves out.
const IGNORED_AT_EVENT_LEVEL: &[&str] = &["recordTime", "eventID", "type", "errorDeclaration"];
/// Members left out at every level.
const IGNORED_EVERYWHERE: &[&str] = &["#text", "rdfs:comment", "comment"];
/// The lists whose entries are (type, value) pairs.
const PAIR_LISTS: &[(&str, &str)] = &[
    ("bizTransactionList", "bizTransaction"),
    ("sourceList", "source"),
    ("destinationList", "destination"),
];

/// Namespace prefixes a document's `@context` defines (`"example": "https://ns.example.com/"`).
#[derive(Clone, Debug, Default)]
pub struct Namespaces(BTreeMap<String, String>);

impl Namespaces {
    /// The prefixes of a JSON-LD `@context`: every string-valued member of its objects. Like the
    /// reference implementation, only a context given as an array is read.
    pub fn of_context(context: Option<&Value>) -> Namespaces {
        let mut map = BTreeMap::new();
        if let Some(Value::Array(items)) = context {
            for item in items {
                match item {
                    Value::String(s) => {
                        map.insert(s.clone(), s.clone());
                    }
                    Value::Object(members) => {
                        for (k, v) in members {
                            if let Value::String(uri) = v {
                                map.insert(k.clone(), uri.clone());
                            }
                        }
                    }
                    _ => {}
                }
            }
        }
        Namespaces(map)
    }

    /// A member name with a known prefix as `{namespace}local`.
    fn key(&self, text: &str) -> String {
        match text.split_once(':') {
            Some((p, local)) if self.0.contains_key(p) => format!("{{{}}}{local}", self.0[p]),
            _ => text.to_string(),
        }
    }

    /// A value with a known prefix as `namespace` + local part.
    fn value(&self, text: &str) -> String {
        match text.split_once(':') {
            Some((p, local)) if self.0.contains_key(p) => format!("{}{local}", self.0[p]),
            _ => text.to_string(),
        }
    }

    fn expand_curie(&self, text: &str) -> Option<String> {
        let (p, local) = text.split_once(':')?;
        if let Some(ns) = self.0.get(p) {
            return Some(format!("{ns}{local}"));
        }
        vocab::CONTEXT_PREFIXES
            .iter()
            .find(|(name, _)| *name == p)
            .map(|(_, ns)| format!("{ns}{local}"))
    }
}

/// The pre-hash string of `event` in a document whose `@context` gives `namespaces`.
pub fn prehash(event: &Value, namespaces: &Namespaces) -> Result<String, HashError> {
    let Value::Object(members) = event else {
        return Err(HashError::NotAnEvent {
            reason: "an event is a JSON object".into(),
        });
    };
    let Some(Value::String(event_type)) = members.get("type") else {
        return Err(HashError::NotAnEvent {
            reason: "an event needs a string member \"type\"".into(),
        });
    };
    let expanded = expanded_vocabulary(event, namespaces);
    let event = replace_bare_strings(event, &expanded);
    let Value::Object(members) = &event else {
        unreachable!("replacing strings keeps an object an object")
    };
    // The type as the reference reads it: after bare-term replacement, without namespaces.
    let event_type = match members.get("type") {
        Some(Value::String(t)) => t.clone(),
        _ => event_type.clone(),
    };
    // The pair lists are written whole, in the leftovers.
    let mut pair_lists = Vec::new();
    let mut rest = serde_json::Map::new();
    for (k, v) in members {
        if let Some((_, value_key)) = PAIR_LISTS.iter().find(|(list, _)| list == k) {
            if let Some(text) = pair_list(k, v, value_key, namespaces)? {
                pair_lists.push(Node {
                    whole: Some(text),
                    ..Node::new(k.clone(), "", Vec::new())
                });
            }
        } else {
            rest.insert(k.clone(), v.clone());
        }
    }
    let root = to_node(&Value::Object(rest), namespaces)?;
    let mut root = correct_structure(root);
    root.children.extend(pair_lists);
    let ordered = ordered(&mut root.children, PROP_ORDER)?;
    let leftovers: Vec<Node> = root
        .children
        .into_iter()
        .filter(|c| !IGNORED_AT_EVENT_LEVEL.contains(&c.key.as_str()))
        .collect();
    let rest = generic(&leftovers)?;
    Ok(format!("eventType={event_type}{ordered}{rest}"))
}

/// A source, destination or business transaction list: `name` then its entries' texts sorted,
/// each `type=...` then `value_key=...`.
fn pair_list(
    name: &str,
    list: &Value,
    value_key: &str,
    namespaces: &Namespaces,
) -> Result<Option<String>, HashError> {
    let entries: Vec<&Value> = match list {
        Value::Array(items) => items.iter().collect(),
        other => vec![other],
    };
    let mut texts = Vec::new();
    for entry in entries {
        let Value::Object(m) = entry else {
            return Err(HashError::NotAnEvent {
                reason: format!("{name} entries are objects"),
            });
        };
        let mut text = String::new();
        for key in ["type", value_key] {
            if let Some(v) = m.get(key) {
                let value = canonize(strip(&scalar_text(v, namespaces)?))?;
                text.push_str(key);
                if !value.is_empty() {
                    text.push('=');
                    text.push_str(&value);
                }
            }
        }
        texts.push(text);
    }
    if texts.is_empty() {
        return Ok(None);
    }
    if texts.len() > 1 {
        texts.sort();
    }
    Ok(Some(format!("{name}{}", texts.concat())))
}

/// The text Python's `str()` gives a JSON scalar (after namespace expansion of strings).
fn scalar_text(v: &Value, namespaces: &Namespaces) -> Result<String, HashError> {
    Ok(match v {
        Value::String(s) => namespaces.value(s),
        Value::Number(n) => n.to_string(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        _ => {
            return Err(HashError::Unhashable {
                reason: "a list or object where a value was expected".into(),
            })
        }
    })
}

/// Rule 5, 14, 6, 17/18 on one value.
fn canonize(text: &str) -> Result<String, HashError> {
    let text = web_vocabulary(text);
    let text = numeric(&text)?;
    Ok(gs1::canonical_dl(&text).unwrap_or(text))
}

/// A JSON value as a tree node (lists flattened into repeated members of their parent).
fn to_node(v: &Value, namespaces: &Namespaces) -> Result<Node, HashError> {
    Ok(match v {
        Value::Array(items) => Node::new(
            "",
            "",
            items
                .iter()
                .map(|i| to_node(i, namespaces))
                .collect::<Result<_, _>>()?,
        ),
        Value::Object(members) => {
            let key = match members.get("type") {
                Some(Value::String(t)) => t.clone(),
                Some(_) => {
                    return Err(HashError::Unhashable {
                        reason: "a member \"type\" that is not a string".into(),
                    })
                }
                None => String::new(),
            };
            let value = match members.get("#text") {
                Some(t) => scalar_text(t, &Namespaces::default())?,
                None => String::new(),
            };
            let mut node = Node::new(key, value, Vec::new());
            for (k, val) in members {
                if IGNORED_EVERYWHERE.contains(&k.as_str()) {
                    continue;
                }
                if k.starts_with("@xmlns") {
                    return Err(HashError::Unhashable {
                        reason: format!("member {k:?}: XML namespace declarations in JSON"),
                    });
                }
                let child = to_node(val, namespaces)?;
                let key = namespaces.key(k);
                if let Value::Array(_) = val {
                    for element in child.children {
                        node.children
                            .push(Node::new(key.clone(), element.value, element.children));
                    }
                } else {
                    node.children
                        .push(Node::new(key, child.value, child.children));
                }
            }
            node
        }
        scalar => Node::new("", scalar_text(scalar, namespaces)?, Vec::new()),
    })
}

/// The JSON binding's lists as the XML binding's elements: members of `xList` become `x`
/// elements of one `xList`, `childEPCs` entries become `epc`, list items of the input, output
/// and child lists become `epc` or `quantityElement`.
fn correct_structure(node: Node) -> Node {
    let mut lists: Vec<(String, Vec<Node>)> = Vec::new();
    let mut rest = Vec::new();
    for e in node.children {
        if e.whole.is_none() && e.key.ends_with("List") {
            let name = e.key.clone();
            let element = Node::new(&name[..name.len() - 4], e.value, e.children);
            match lists.iter_mut().find(|(n, _)| *n == name) {
                Some((_, items)) => items.push(element),
                None => lists.push((name, vec![element])),
            }
        } else {
            rest.push(e);
        }
    }
    for (name, items) in lists {
        rest.push(Node::new(name, "", items));
    }
    let (child_epcs, mut rest): (Vec<Node>, Vec<Node>) =
        rest.into_iter().partition(|e| e.key == "childEPCs");
    if !child_epcs.is_empty() {
        rest.push(Node::new(
            "childEPCs",
            "",
            child_epcs
                .into_iter()
                .map(|e| Node::new("epc", e.value, Vec::new()))
                .collect(),
        ));
    }
    let children = rest
        .into_iter()
        .map(|e| {
            if e.whole.is_some() {
                e
            } else {
                correct_structure(e)
            }
        })
        .collect();
    let mut node = Node {
        children,
        ..Node::new(node.key, node.value, Vec::new())
    };
    match node.key.as_str() {
        "inputEPC" | "outputEPC" => node.key = "epc".into(),
        "inputQuantity" | "outputQuantity" | "childQuantity" => node.key = "quantityElement".into(),
        "quantity" if !node.children.is_empty() => node.key = "quantityElement".into(),
        _ => {}
    }
    node
}

/// Writes the children of `list` named in `order`, in that order, and takes out every child
/// it wrote completely (a child keeps whatever it has left, to be written with the leftovers).
fn ordered(list: &mut Vec<Node>, order: &[Order]) -> Result<String, HashError> {
    let mut pre = String::new();
    let extensions = gather_user_extensions(list);
    for Order(name, sub) in order {
        let mut values = Vec::new();
        let mut i = 0;
        while i < list.len() {
            if list[i].key == *name && list[i].whole.is_none() {
                let text = child_text(&mut list[i], *sub)?;
                if !text.is_empty() {
                    values.push(text);
                }
                if list[i].children.is_empty() {
                    list.remove(i);
                    continue;
                }
            }
            i += 1;
        }
        values.sort();
        pre.push_str(&values.concat());
    }
    if !extensions.is_empty() {
        pre.push_str(&generic(&extensions)?);
    }
    Ok(pre)
}

fn child_text(child: &mut Node, sub: Option<&[Order]>) -> Result<String, HashError> {
    let grand = match sub {
        Some(order) => ordered(&mut child.children, order)?,
        None => String::new(),
    };
    let mut text = String::new();
    if !child.value.is_empty() {
        let value = strip(&child.value);
        let lower = child.key.to_lowercase();
        let value = if value.is_empty() {
            String::new()
        } else if lower.contains("time") && !lower.contains("offset") {
            utc_millis_text(value)?
        } else {
            canonize(value)?
        };
        if !value.is_empty() {
            text = format!("={value}");
        }
    }
    if text.is_empty() && grand.is_empty() {
        return Ok(String::new());
    }
    Ok(format!("{}{text}{grand}", child.key))
}

/// User extensions inside a standard field (members in a namespace ending in `/`), taken out
/// to be written after the field's own members. Not at event level.
fn gather_user_extensions(list: &mut Vec<Node>) -> Vec<Node> {
    if list.len() <= 1
        || list
            .iter()
            .any(|c| c.key.contains("eventTime") || c.key.contains("action"))
    {
        return Vec::new();
    }
    let (ext, rest): (Vec<Node>, Vec<Node>) = std::mem::take(list)
        .into_iter()
        .partition(|c| c.whole.is_none() && c.key.contains('{') && c.key.contains("/}"));
    *list = rest;
    ext
}

/// Every node of `children` written whole, sorted unless it is a source, destination or
/// business transaction entry.
fn generic(children: &[Node]) -> Result<String, HashError> {
    let mut values = Vec::with_capacity(children.len());
    for child in children {
        if let Some(whole) = &child.whole {
            values.push(whole.clone());
            continue;
        }
        let value = strip(&child.value);
        let text = if value.is_empty() {
            String::new()
        } else {
            format!("={}", canonize(value)?)
        };
        values.push(format!("{}{text}{}", child.key, generic(&child.children)?));
    }
    let no_sort = children
        .iter()
        .any(|c| matches!(c.key.as_str(), "bizTransaction" | "source" | "destination"));
    if values.len() > 1 && !no_sort {
        values.sort();
    }
    Ok(values.concat())
}

/// The CBV and GS1 Web Vocabulary URIs a JSON-LD processor finds in `event`: its vocabulary
/// fields' bare terms and CURIEs expanded, and every value already written as such a URI.
pub fn expanded_vocabulary(event: &Value, namespaces: &Namespaces) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    collect_expanded(event, None, namespaces, &mut out);
    out.retain(|v| {
        v.starts_with("https://ref.gs1.org/cbv") || v.starts_with("https://gs1.org/voc")
    });
    out
}

/// The vocabulary a member holds bare terms of, by its name and its parent's.
fn vocabulary_of(parent: Option<&str>, key: &str) -> Option<Vocabulary> {
    Some(match (parent, key) {
        (_, "bizStep") => vocab::BIZ_STEP,
        (_, "disposition") | (Some("persistentDisposition"), "set" | "unset") => vocab::DISPOSITION,
        (Some("sourceList" | "destinationList"), "type") => vocab::SOURCE_DESTINATION_TYPE,
        (Some("bizTransactionList"), "type") => vocab::BIZ_TRANSACTION_TYPE,
        (Some("sensorReport"), "type") => vocab::MEASUREMENT_TYPE,
        (Some("sensorReport"), "exception") => vocab::SENSOR_ALERT,
        (Some("sensorReport"), "component") => vocab::COMPONENT,
        (Some("errorDeclaration"), "reason") => vocab::ERROR_REASON,
        _ => return None,
    })
}

fn collect_expanded(
    v: &Value,
    field: Option<(Option<&str>, &str)>,
    namespaces: &Namespaces,
    out: &mut BTreeSet<String>,
) {
    match v {
        Value::String(s) => {
            let vocabulary = field.and_then(|(parent, key)| vocabulary_of(parent, key));
            if let Some(vocabulary) = vocabulary {
                if let Some(uri) = vocabulary.expand(s) {
                    out.insert(uri);
                    return;
                }
            }
            if vocabulary.is_some() || field.is_some_and(|(_, k)| is_id_field(k)) {
                if let Some(uri) = namespaces.expand_curie(s) {
                    out.insert(uri);
                    return;
                }
            }
            out.insert(s.clone());
        }
        Value::Array(items) => {
            for item in items {
                collect_expanded(item, field, namespaces, out);
            }
        }
        Value::Object(members) => {
            let parent = field.map(|(_, k)| k);
            for (k, item) in members {
                collect_expanded(item, Some((parent, k.as_str())), namespaces, out);
            }
        }
        _ => {}
    }
}

/// Members whose values GS1's context types as IRIs (`@id`).
fn is_id_field(key: &str) -> bool {
    matches!(
        key,
        "epcList"
            | "childEPCs"
            | "inputEPCList"
            | "outputEPCList"
            | "parentID"
            | "id"
            | "certificationInfo"
            | "transformationID"
            | "bizTransaction"
            | "source"
            | "destination"
            | "epcClass"
            | "deviceID"
            | "deviceMetadata"
            | "rawData"
            | "dataProcessingMethod"
            | "bizRules"
            | "microorganism"
            | "chemicalSubstance"
            | "uriValue"
            | "coordinateReferenceSystem"
    )
}

/// Every string value (not member names) that is the last segment of exactly one expanded URI
/// (`"shipping"` of `.../BizStep-shipping`) replaced by that URI.
pub fn replace_bare_strings(v: &Value, expanded: &BTreeSet<String>) -> Value {
    match v {
        Value::String(s) => {
            let dash = format!("-{s}");
            let slash = format!("/{s}");
            let mut matches = expanded
                .iter()
                .filter(|e| e.ends_with(&dash) || e.ends_with(&slash));
            match (matches.next(), matches.next()) {
                (Some(one), None) => Value::String(one.clone()),
                _ => v.clone(),
            }
        }
        Value::Array(items) => Value::Array(
            items
                .iter()
                .map(|i| replace_bare_strings(i, expanded))
                .collect(),
        ),
        Value::Object(members) => Value::Object(
            members
                .iter()
                .map(|(k, i)| (k.clone(), replace_bare_strings(i, expanded)))
                .collect(),
        ),
        other => other.clone(),
    }
}
