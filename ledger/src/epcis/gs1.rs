//! GS1 identifiers in the form the CBV 2.0 event hash algorithm writes them (rules 17 and 18):
//! EPC URIs (`urn:epc:id:...`), EPC class URIs (`urn:epc:class:lgtin:...`) and EPC pattern URIs
//! (`urn:epc:idpat:...`) become canonical GS1 Digital Link URIs on `https://id.gs1.org`; a
//! Digital Link URI on any domain is reduced to its most fine-grained key on that domain, without
//! query string. Anything else is not an identifier this module knows (`None`).
//!
//! The grammar is GS1's Tag Data Standard (the EPC URI bodies) and Digital Link (the path
//! forms), restricted exactly as GS1's reference implementation restricts them, so that the hash
//! of an event agrees with it. Check digits are computed, never checked.

/// One character class of an EPC URI component: TDS's GS3A3 (GS1 AI encodable character set 82,
/// with `"%&/<>?` written as `%XX`).
fn gs3a3_len(s: &str) -> Option<usize> {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (h, l) = (*b.get(i + 1)?, *b.get(i + 2)?);
            let ok = match h {
                b'2' => matches!(l, b'1' | b'2' | b'5'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'3' => l.is_ascii_hexdigit(),
                b'4' => matches!(l, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'5' => matches!(l, b'0'..=b'9' | b'A' | b'a' | b'F' | b'f'),
                b'6' => matches!(l, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'7' => matches!(l, b'0'..=b'9' | b'A' | b'a'),
                _ => false,
            };
            if !ok {
                return None;
            }
            i += 3;
        } else if b[i].is_ascii_alphanumeric() || b"!')(*+,.:;=_-".contains(&b[i]) {
            i += 1;
        } else {
            return None;
        }
        n += 1;
    }
    Some(n)
}

fn gs3a3(s: &str, max: usize) -> bool {
    gs3a3_len(s).is_some_and(|n| (1..=max).contains(&n))
}

/// The component character set of a CPI (component/part reference), with its escapes.
fn cpi_ref(s: &str, max: usize) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    let mut n = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let (Some(&h), Some(&l)) = (b.get(i + 1), b.get(i + 2)) else {
                return false;
            };
            let ok = match h {
                b'2' => matches!(l, b'3' | b'd' | b'f' | b'D' | b'F'),
                b'3' => l.is_ascii_digit(),
                b'4' => matches!(l, b'1'..=b'9' | b'A'..=b'F' | b'a'..=b'f'),
                b'5' => matches!(l, b'0'..=b'9' | b'A' | b'a'),
                _ => false,
            };
            if !ok {
                return false;
            }
            i += 3;
        } else if b[i].is_ascii_digit() || b[i].is_ascii_uppercase() || b[i] == b'-' {
            i += 1;
        } else {
            return false;
        }
        n += 1;
    }
    (1..=max).contains(&n)
}

fn digits(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit())
}

/// GS1 mod-10 check digit of a key without it.
pub fn check_digit(key: &str) -> u32 {
    let sum: u32 = key
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, c)| u32::from(c - b'0') * if i % 2 == 0 { 3 } else { 1 })
        .sum();
    (10 - sum % 10) % 10
}

fn with_check(key: &str) -> String {
    format!("{key}{}", check_digit(key))
}

/// Digital Link's percent-encoding of the characters an EPC URI may leave bare.
fn dl_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '!' => out.push_str("%21"),
            '(' => out.push_str("%28"),
            ')' => out.push_str("%29"),
            '*' => out.push_str("%2A"),
            '+' => out.push_str("%2B"),
            ',' => out.push_str("%2C"),
            ':' => out.push_str("%3A"),
            _ => out.push(c),
        }
    }
    out
}

/// `company.reference` where the company prefix has 6..=12 digits and the two together
/// `total` digits (the reference may be empty only when `empty_ok`, as in `sgln`'s
/// `CP12..ext`). Returns (company prefix, reference).
fn cp_ref(s: &str, total: usize, empty_ok: bool) -> Option<(&str, &str)> {
    let (cp, rest) = s.split_once('.')?;
    if !(6..=12).contains(&cp.len()) || !digits(cp) || cp.len() > total {
        return None;
    }
    let r = rest;
    let want = total - cp.len();
    if want == 0 {
        return if empty_ok && r.is_empty() {
            Some((cp, r))
        } else {
            None
        };
    }
    (r.len() == want && digits(r)).then_some((cp, r))
}

/// The canonical GS1 Digital Link URI of an EPC URI, EPC class or pattern URI, or Digital Link
/// URI; `None` for any other value.
pub fn canonical_dl(uri: &str) -> Option<String> {
    // The reference implementation gives up on values without a dot.
    if !uri.contains('.') {
        return None;
    }
    if let Some(body) = uri.strip_prefix("urn:epc:id:") {
        return epc_id(body);
    }
    if let Some(body) = uri.strip_prefix("urn:epc:class:lgtin:") {
        let (head, lot) = split_n(body, 2)?;
        let (cp, item) = cp_ref(head, 13, false)?;
        if !gs3a3(lot, 20) {
            return None;
        }
        return Some(format!(
            "https://id.gs1.org/01/{}/10/{}",
            with_check(&gtin(cp, item)),
            dl_encode(lot)
        ));
    }
    if let Some(body) = uri.strip_prefix("urn:epc:idpat:") {
        return epc_pattern(body);
    }
    if uri.starts_with("http:") || uri.starts_with("https:") {
        return digital_link(uri);
    }
    None
}

/// Indicator digit first: the GTIN body of an SGTIN's company prefix and item reference.
fn gtin(cp: &str, item: &str) -> String {
    format!("{}{cp}{}", &item[..1], &item[1..])
}

/// `s` split after its `n`-th dot: (the part before, the rest).
fn split_n(s: &str, n: usize) -> Option<(&str, &str)> {
    let mut idx = 0;
    for _ in 0..n {
        idx += s[idx..].find('.')? + 1;
    }
    Some((&s[..idx - 1], &s[idx..]))
}

fn epc_id(body: &str) -> Option<String> {
    let (scheme, rest) = body.split_once(':')?;
    let dl = |path: String| Some(format!("https://id.gs1.org/{path}"));
    match scheme {
        "sgtin" | "upui" => {
            let (head, serial) = split_n(rest, 2)?;
            let (cp, item) = cp_ref(head, 13, false)?;
            let (ai, max) = if scheme == "sgtin" {
                ("21", 20)
            } else {
                ("235", 28)
            };
            if !gs3a3(serial, max) {
                return None;
            }
            dl(format!(
                "01/{}/{ai}/{}",
                with_check(&gtin(cp, item)),
                dl_encode(serial)
            ))
        }
        "sscc" => {
            let (cp, serial) = cp_ref(rest, 17, false)?;
            dl(format!("00/{}", with_check(&gtin(cp, serial))))
        }
        "sgln" => {
            let (head, ext) = split_n(rest, 2)?;
            let (cp, loc) = cp_ref(head, 12, true)?;
            if !gs3a3(ext, 20) {
                return None;
            }
            let gln = with_check(&format!("{cp}{loc}"));
            if ext == "0" {
                dl(format!("414/{gln}"))
            } else {
                dl(format!("414/{gln}/254/{}", dl_encode(ext)))
            }
        }
        "grai" => {
            let (head, serial) = split_n(rest, 2)?;
            let (cp, asset) = cp_ref(head, 12, true)?;
            // A 12-digit company prefix has no asset type: `CP...serial`, and the reference
            // keeps the third dot as the serial's first character.
            let plain = match cp.len() {
                12 => serial.strip_prefix('.')?,
                _ => serial,
            };
            if !gs3a3(plain, 16) {
                return None;
            }
            dl(format!(
                "8003/{}{}",
                with_check(&format!("0{cp}{asset}")),
                dl_encode(serial)
            ))
        }
        "giai" => {
            let (cp, asset) = rest.split_once('.')?;
            if !(6..=12).contains(&cp.len()) || !digits(cp) || !gs3a3(asset, 30 - cp.len()) {
                return None;
            }
            dl(format!("8004/{cp}{}", dl_encode(asset)))
        }
        "gsrn" | "gsrnp" => {
            let (cp, service) = cp_ref(rest, 17, false)?;
            let ai = if scheme == "gsrn" { "8018" } else { "8017" };
            dl(format!("{ai}/{}", with_check(&format!("{cp}{service}"))))
        }
        "gdti" => {
            let (head, serial) = split_n(rest, 2)?;
            let (cp, doc) = cp_ref(head, 12, true)?;
            // The reference reads the serial with its leading dot as part of the character
            // class (20 characters in all, dot included), except after a 12-digit company
            // prefix (`CP..serial`), where both dots belong to the prefix's pattern.
            let counted = match cp.len() {
                12 => serial.to_string(),
                _ => format!(".{serial}"),
            };
            if !gs3a3(&counted, 20) {
                return None;
            }
            dl(format!(
                "253/{}{}",
                with_check(&format!("{cp}{doc}")),
                dl_encode(serial)
            ))
        }
        "cpi" => {
            let (cp, rest) = rest.split_once('.')?;
            let (part, serial) = rest.rsplit_once('.')?;
            if !(6..=12).contains(&cp.len())
                || !digits(cp)
                || !cpi_ref(part, 30 - cp.len())
                || !digits(serial)
                || serial.len() > 12
            {
                return None;
            }
            dl(format!(
                "8010/{}/8011/{serial}",
                dl_encode(&format!("{cp}{part}"))
            ))
        }
        "sgcn" => {
            let (head, serial) = split_n(rest, 2)?;
            let (cp, coupon) = cp_ref(head, 12, true)?;
            if !digits(serial) || serial.len() > 12 {
                return None;
            }
            dl(format!(
                "255/{}{serial}",
                with_check(&format!("{cp}{coupon}"))
            ))
        }
        "ginc" => {
            let (cp, reference) = rest.split_once('.')?;
            if !(6..=12).contains(&cp.len()) || !digits(cp) || !gs3a3(reference, 30 - cp.len()) {
                return None;
            }
            dl(format!("401/{cp}{}", dl_encode(reference)))
        }
        "gsin" => {
            let (cp, shipper) = cp_ref(rest, 16, false)?;
            dl(format!("402/{}", with_check(&format!("{cp}{shipper}"))))
        }
        "itip" => {
            let (head, rest) = split_n(rest, 2)?;
            let (cp, item) = cp_ref(head, 13, false)?;
            let (piece, rest) = rest.split_once('.')?;
            let (total, serial) = rest.split_once('.')?;
            if piece.len() != 2
                || !digits(piece)
                || total.len() != 2
                || !digits(total)
                || !gs3a3(serial, 20)
            {
                return None;
            }
            dl(format!(
                "8006/{}{piece}{total}/21/{}",
                with_check(&gtin(cp, item)),
                dl_encode(serial)
            ))
        }
        "pgln" => {
            let (cp, party) = cp_ref(rest, 12, true)?;
            dl(format!("417/{}", with_check(&format!("{cp}{party}"))))
        }
        _ => None,
    }
}

fn epc_pattern(body: &str) -> Option<String> {
    let (scheme, rest) = body.split_once(':')?;
    let dl = |path: String| Some(format!("https://id.gs1.org/{path}"));
    match scheme {
        "sgtin" | "upui" => {
            let head = rest.strip_suffix(".*")?;
            let (cp, item) = cp_ref(head, 13, false)?;
            dl(format!("01/{}", with_check(&gtin(cp, item))))
        }
        "grai" | "gdti" | "sgcn" => {
            let head = rest.strip_suffix(".*")?;
            // `CP..` for a 12-digit company prefix (no reference).
            let head = match head.strip_suffix("..") {
                Some(cp) if cp.len() == 12 => &head[..13],
                _ => head,
            };
            let (cp, reference) = cp_ref(head, 12, true)?;
            let key = format!("{cp}{reference}");
            match scheme {
                "grai" => dl(format!("8003/{}", with_check(&format!("0{key}")))),
                "gdti" => dl(format!("253/{}", with_check(&key))),
                _ => dl(format!("255/{}", with_check(&key))),
            }
        }
        "cpi" => {
            let head = rest.strip_suffix(".*")?;
            let (cp, part) = head.split_once('.')?;
            if !(6..=12).contains(&cp.len()) || !digits(cp) || !cpi_ref(part, 30 - cp.len()) {
                return None;
            }
            dl(format!("8010/{}", dl_encode(&format!("{cp}{part}"))))
        }
        "itip" => {
            let head = rest.strip_suffix(".*")?;
            let (head, tail) = split_n(head, 2)?;
            let (cp, item) = cp_ref(head, 13, false)?;
            let (piece, total) = tail.split_once('.')?;
            if piece.len() != 2 || !digits(piece) || total.len() != 2 || !digits(total) {
                return None;
            }
            dl(format!(
                "8006/{}{piece}{total}",
                with_check(&gtin(cp, item))
            ))
        }
        _ => None,
    }
}

/// Keys a Digital Link path may carry, by AI and by its short name.
const DL_KEYS: &[&str] = &[
    "01", "gtin", "8006", "itip", "8010", "cpid", "414", "gln", "417", "party", "8017", "gsrnp",
    "8018", "gsrn", "255", "gcn", "00", "sscc", "253", "gdti", "401", "ginc", "402", "gsin",
    "8003", "grai", "8004", "giai",
];

const SHORT_NAMES: &[(&str, &str)] = &[
    ("/gtin/", "/01/"),
    ("/itip/", "/8006/"),
    ("/cpid/", "/8010/"),
    ("/gln/", "/414/"),
    ("/party/", "/417/"),
    ("/gsrnp/", "/8017/"),
    ("/gsrn/", "/8018/"),
    ("/gcn/", "/255/"),
    ("/sscc/", "/00/"),
    ("/gdti/", "/253/"),
    ("/ginc/", "/401/"),
    ("/gsin/", "/402/"),
    ("/grai/", "/8003/"),
    ("/giai/", "/8004/"),
    ("/cpv/", "/22/"),
    ("/lot/", "/10/"),
    ("/ser/", "/21/"),
];

/// Primary keys in the order the domain is replaced by the first one found.
const DOMAIN_KEYS: &[&str] = &[
    "/00/", "/01/", "/253/", "/255/", "/401/", "/402/", "/414/", "/417/", "/8003/", "/8004/",
    "/8006/", "/8010/", "/8017/", "/8018/",
];

/// The reference implementation compares the domain as a pattern in which each dot of
/// `id.gs1.org` stands for any character; so does this.
fn canonical_host_prefix(uri: &str) -> Option<&str> {
    let b = uri.as_bytes();
    let pat = b"https://id.gs1.org";
    if b.len() < pat.len() {
        return None;
    }
    let ok = pat
        .iter()
        .zip(b)
        .all(|(p, c)| if *p == b'.' { *c != b'\n' } else { p == c });
    ok.then(|| &uri[pat.len()..])
}

/// Digital Link value characters the reference accepts (no `%`, `!`, `&`, `(`...).
fn dl_char(c: u8) -> bool {
    matches!(c, b'"' | b'\'' | b'-' | b'.' | b'0'..=b'9' | b';'..=b'?' | b'A'..=b'Z' | b'_' | b'a'..=b'z')
}

fn dl_value(s: &str, max: usize) -> bool {
    s.len() <= max && s.bytes().all(dl_char)
}

fn digits_n(s: &str, n: usize) -> bool {
    s.len() == n && digits(s)
}

/// Whether `s` starts with `n` ASCII digits. Cut with `get`, not by index: a value is any
/// text, and its `n`th byte may fall inside a character (a client's document panicked the
/// check that way; found by fuzzing). After a `true`, `&s[n..]` is safe.
fn leading_digits(s: &str, n: usize) -> bool {
    s.get(..n).is_some_and(|head| digits_n(head, n))
}

fn digital_link(uri: &str) -> Option<String> {
    if !is_digital_link(uri) {
        return None;
    }
    let mut uri = match uri.find('?') {
        Some(q) => uri[..q].to_string(),
        None => uri.to_string(),
    };
    for (from, to) in SHORT_NAMES {
        if uri.contains(from) {
            uri = uri.replace(from, to);
        }
    }
    if !canonical_domain_form(&uri) {
        if let Some(i) = DOMAIN_KEYS.iter().find_map(|k| uri.find(k)) {
            uri = format!("https://id.gs1.org{}", &uri[i..]);
        }
    }
    // GTINs padded to 14 digits.
    if let Some(path) = canonical_host_prefix(&uri).and_then(|p| p.strip_prefix("/01/")) {
        let lead = path.bytes().take_while(u8::is_ascii_digit).count();
        if lead < 14 {
            if lead >= 13 {
                uri = uri.replace("/01/", "/01/0");
            } else if lead >= 12 {
                uri = uri.replace("/01/", "/01/00");
            } else if lead >= 8 {
                uri = uri.replace("/01/", "/01/000000");
            }
        }
    }
    uri = strip_cpv(&uri);
    uri = strip_lot_under_serial(&uri);
    valid_canonical(&uri).then_some(uri)
}

/// The reference's acceptance test of a Digital Link URI: after `http:` or `https:`, the part
/// before any `?` or `#` holds `/KEY/` followed by four digits, and some character other than
/// `/` follows them; or the path is a compressed one (`/` and ten of `[A-Za-z_-]` at the end).
fn is_digital_link(uri: &str) -> bool {
    let rest = uri
        .strip_prefix("https:")
        .or_else(|| uri.strip_prefix("http:"))
        .unwrap_or("");
    let head_end = rest.find(['?', '#']).unwrap_or(rest.len());
    let head = &rest[..head_end];
    for key in DL_KEYS {
        let needle = format!("/{key}/");
        let mut from = 0;
        while let Some(pos) = head[from..].find(&needle) {
            let start = from + pos + needle.len();
            let after = &rest[start..];
            let four = after.as_bytes().iter().take(4).all(u8::is_ascii_digit) && after.len() >= 4;
            if four && start + 4 <= head_end && after[4..].bytes().next().is_some_and(|c| c != b'/')
            {
                return true;
            }
            from += pos + 1;
        }
    }
    // The compressed form: an optional authority, then `/` and ten of `[A-Za-z_-]`, at the end.
    let path = match rest.strip_prefix("//") {
        Some(a) => &a[a.find(['/', '?', '#']).unwrap_or(a.len())..],
        None => rest,
    };
    let path = path.strip_suffix('\n').unwrap_or(path);
    path.strip_prefix('/').is_some_and(|tail| {
        tail.len() == 10
            && tail
                .bytes()
                .all(|c| c.is_ascii_alphabetic() || c == b'_' || c == b'-')
    })
}

/// `https://id.gs1.org/KEY/dddd...` with one of the primary keys (prefix match, as the
/// reference's pattern is not anchored at the end).
fn canonical_domain_form(uri: &str) -> bool {
    let Some(path) = canonical_host_prefix(uri) else {
        return false;
    };
    const KEYS: &[&str] = &[
        "01", "8006", "8010", "414", "417", "8017", "8018", "255", "00", "253", "401", "402",
        "8003", "8004",
    ];
    let Some(path) = path.strip_prefix('/') else {
        return false;
    };
    KEYS.iter().any(|k| {
        path.strip_prefix(k)
            .and_then(|r| r.strip_prefix('/'))
            .is_some_and(|r| {
                r.len() > 4
                    && r.as_bytes()[..4].iter().all(u8::is_ascii_digit)
                    && r.as_bytes()[4] != b'/'
            })
    })
}

/// The path of a canonical-domain GTIN or ITIP URI and the length of its `/01/<14 digits>` or
/// `/8006/<18 digits>` start.
fn gtin_or_itip_path(uri: &str) -> Option<(&str, usize)> {
    let path = canonical_host_prefix(uri)?;
    let key_len = if let Some(r) = path.strip_prefix("/8006/") {
        leading_digits(r, 18).then_some(6 + 18)
    } else if let Some(r) = path.strip_prefix("/01/") {
        leading_digits(r, 14).then_some(4 + 14)
    } else {
        None
    }?;
    Some((path, key_len))
}

/// Drops a consumer product variant (`/22/...`) after a GTIN or ITIP.
fn strip_cpv(uri: &str) -> String {
    let Some((path, key_len)) = gtin_or_itip_path(uri) else {
        return uri.to_string();
    };
    let Some(cpv) = path[key_len..].strip_prefix("/22/") else {
        return uri.to_string();
    };
    let head = &uri[..uri.len() - path.len() + key_len];
    if dl_value(cpv, 20) {
        return head.to_string();
    }
    if cpv.len() <= 20 && cpv.bytes().all(|c| c == b'/' || dl_char(c)) {
        if let Some(slash) = cpv.find('/') {
            return format!("{head}{}", &cpv[slash..]);
        }
    }
    uri.to_string()
}

/// Keeps only the serial when a GTIN or ITIP carries both a lot and a serial.
fn strip_lot_under_serial(uri: &str) -> String {
    let Some((path, key_len)) = gtin_or_itip_path(uri) else {
        return uri.to_string();
    };
    let Some(rest) = path[key_len..].strip_prefix("/10/") else {
        return uri.to_string();
    };
    let Some((lot, serial)) = rest.split_once("/21/") else {
        return uri.to_string();
    };
    if dl_value(lot, 20) && dl_value(serial, 20) {
        let head = &uri[..uri.len() - path.len() + key_len];
        return format!("{head}/21/{serial}");
    }
    uri.to_string()
}

/// The forms the reference accepts as a result.
fn valid_canonical(uri: &str) -> bool {
    let Some(path) = canonical_host_prefix(uri).and_then(|p| p.strip_prefix('/')) else {
        return false;
    };
    let Some((ai, rest)) = path.split_once('/') else {
        return false;
    };
    let qualified = |key_digits: usize, quals: &[(&str, usize)]| {
        if !leading_digits(rest, key_digits) {
            return false;
        }
        // A char boundary: the bytes before it are ASCII digits.
        let tail = &rest[key_digits..];
        tail.is_empty()
            || quals.iter().any(|(q, max)| {
                tail.strip_prefix('/')
                    .and_then(|t| t.strip_prefix(q))
                    .and_then(|t| t.strip_prefix('/'))
                    .is_some_and(|v| dl_value(v, *max))
            })
    };
    match ai {
        "00" => digits_n(rest, 18),
        "01" => qualified(14, &[("21", 20), ("10", 20), ("235", 28)]),
        "253" => leading_digits(rest, 13) && dl_value(&rest[13..], 17),
        "255" => {
            leading_digits(rest, 13)
                && rest.len() <= 25
                && rest[13..].bytes().all(|c| c.is_ascii_digit())
        }
        "401" | "8004" => dl_value(rest, 30),
        "402" => digits_n(rest, 17),
        "414" => qualified(13, &[("254", 20)]),
        "417" => digits_n(rest, 13),
        "8003" => leading_digits(rest, 14) && dl_value(&rest[14..], 16),
        "8006" => qualified(18, &[("21", 20), ("10", 20)]),
        "8010" => {
            let cpid_ok = |s: &str| {
                s.len() <= 30
                    && s.bytes()
                        .all(|c| matches!(c, b'#' | b'-' | b'/' | b'0'..=b'9' | b'A'..=b'Z'))
            };
            match rest.rsplit_once("/8011/") {
                Some((cpid, serial))
                    if cpid_ok(cpid)
                        && serial.len() <= 12
                        && serial.bytes().all(|c| c.is_ascii_digit()) =>
                {
                    true
                }
                _ => cpid_ok(rest),
            }
        }
        "8017" | "8018" => digits_n(rest, 18),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_whose_digits_end_inside_a_character_is_refused_not_a_panic() {
        // Found by the epcis_document fuzzer (2026-12-07): `/414/` and twelve digits, then a
        // three-byte character, and the check of thirteen digits cut the string inside it.
        for (ai, digits) in [
            ("414", 12),
            ("01", 13),
            ("253", 12),
            ("255", 12),
            ("8003", 13),
            ("8006", 17),
            ("00", 17),
            ("402", 16),
        ] {
            let uri = format!("https://id.gs1.org/{ai}/{}\u{ea43}9", "4".repeat(digits));
            assert_eq!(canonical_dl(&uri), None, "{uri}");
            let with_lot = format!(
                "https://id.gs1.org/{ai}/{}\u{ea43}9/10/A/21/B",
                "4".repeat(digits)
            );
            assert_eq!(canonical_dl(&with_lot), None, "{with_lot}");
        }
    }

    #[test]
    fn epc_uris_become_canonical_digital_links() {
        for (input, want) in [
            (
                "urn:epc:id:sgtin:4047023.077551.98",
                Some("https://id.gs1.org/01/04047023775511/21/98"),
            ),
            (
                "urn:epc:id:sscc:5200001.0111111146",
                Some("https://id.gs1.org/00/052000011111111461"),
            ),
            (
                "urn:epc:id:sgln:5200001.99901.0",
                Some("https://id.gs1.org/414/5200001999012"),
            ),
            (
                "urn:epc:id:sgln:4012345.00012.5",
                Some("https://id.gs1.org/414/4012345000122/254/5"),
            ),
            (
                "urn:epc:id:pgln:5200001.00000",
                Some("https://id.gs1.org/417/5200001000008"),
            ),
            (
                "urn:epc:class:lgtin:4054739.099914.20160711",
                Some("https://id.gs1.org/01/04054739999148/10/20160711"),
            ),
            (
                "urn:epc:idpat:sgtin:4012345.066666.*",
                Some("https://id.gs1.org/01/04012345666663"),
            ),
            (
                "urn:epc:id:sgtin:4012345.011111.a!b",
                Some("https://id.gs1.org/01/04012345111118/21/a%21b"),
            ),
            (
                "https://id.gs1.de/01/04012345999990/21/XYZ-1234",
                Some("https://id.gs1.org/01/04012345999990/21/XYZ-1234"),
            ),
            (
                "https://example.com/gtin/9520123456788/lot/L1/ser/12?linkType=all",
                Some("https://id.gs1.org/01/09520123456788/21/12"),
            ),
            ("urn:epc:id:sgtin:4012345.011111", None),
            ("urn:epcglobal:cbv:bt:5200001000008:4711", None),
            ("https://example.com/item/12345", None),
            ("not a uri", None),
        ] {
            assert_eq!(canonical_dl(input).as_deref(), want, "{input}");
        }
        assert_eq!(check_digit("520000100000"), 8);
    }
}
