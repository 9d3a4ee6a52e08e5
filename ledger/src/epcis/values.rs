//! How the CBV 2.0 event hash algorithm writes one value into the pre-hash string: whitespace
//! trimmed, old CBV URNs as Web URIs, numbers without trailing zeros, timestamps in UTC at
//! millisecond precision, GS1 identifiers as canonical GS1 Digital Link URIs
//! ([`super::gs1::canonical_dl`]).
//!
//! Numbers follow GS1's reference implementation exactly: any value that reads as a number
//! (as a binary64 float, the way Python's `float()` reads it, underscores and `inf` included) is
//! written as that float's integer digits when it is integral, else as its shortest
//! round-trip form (`12.1`, `1e-05`).

use super::HashError;

/// Trims what Python's `str.strip()` trims.
pub fn strip(s: &str) -> &str {
    s.trim_matches(|c: char| c.is_whitespace() || ('\x1c'..='\x1f').contains(&c))
}

/// Rule 14: CBV 1.x URNs become CBV 2.0 Web URIs, wherever they appear in the value.
pub fn web_vocabulary(text: &str) -> String {
    const MAP: &[(&str, &str)] = &[
        (
            "urn:epcglobal:cbv:bizstep:",
            "https://ref.gs1.org/cbv/BizStep-",
        ),
        ("urn:epcglobal:cbv:disp:", "https://ref.gs1.org/cbv/Disp-"),
        ("urn:epcglobal:cbv:btt:", "https://ref.gs1.org/cbv/BTT-"),
        ("urn:epcglobal:cbv:sdt:", "https://ref.gs1.org/cbv/SDT-"),
        ("urn:epcglobal:cbv:er:", "https://ref.gs1.org/cbv/ER-"),
    ];
    let mut out = text.to_string();
    for (from, to) in MAP {
        if out.contains(from) {
            out = out.replace(from, to);
        }
    }
    out
}

/// A value read as a number, written the way the reference implementation writes it; the text
/// unchanged if it is not a number. An infinite number is an error: the reference
/// implementation fails on it and gives the event no hash at all.
pub fn numeric(text: &str) -> Result<String, HashError> {
    let Some(value) = python_float(text) else {
        return Ok(text.to_string());
    };
    if value.is_nan() {
        return Ok(text.to_string());
    }
    if value.is_infinite() {
        return Err(HashError::Unhashable {
            reason: format!("the value {text:?} reads as an infinite number"),
        });
    }
    Ok(format_number(value))
}

/// The text of a float as the reference implementation writes it: integral values as exact
/// integers, others in Python's `repr`.
pub fn format_number(value: f64) -> String {
    if value.fract() == 0.0 {
        return exact_integer(value);
    }
    python_repr(value)
}

/// Python's `float(text)` of an already stripped text, or `None` where it raises. Decimal
/// digits other than ASCII ones are not read (Python reads them; no EPCIS value has them).
pub fn python_float(text: &str) -> Option<f64> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let lower = body.to_ascii_lowercase();
    let special = match lower.as_str() {
        "inf" | "infinity" => Some(f64::INFINITY),
        "nan" => Some(f64::NAN),
        _ => None,
    };
    if let Some(v) = special {
        return Some(if negative { -v } else { v });
    }
    // [digits] [. [digits]] [e [sign] digits], digits = digit (_? digit)*, at least one digit
    // before or after the point.
    let b = body.as_bytes();
    let mut i = 0;
    let mut clean = String::with_capacity(body.len() + 1);
    if negative {
        clean.push('-');
    }
    let int_len = digit_part(b, &mut i, &mut clean)?;
    let mut frac_len = 0;
    if b.get(i) == Some(&b'.') {
        i += 1;
        clean.push('.');
        frac_len = digit_part(b, &mut i, &mut clean)?;
    }
    if int_len == 0 && frac_len == 0 {
        return None;
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        clean.push('e');
        if let Some(&s @ (b'+' | b'-')) = b.get(i) {
            clean.push(s as char);
            i += 1;
        }
        if digit_part(b, &mut i, &mut clean)? == 0 {
            return None;
        }
    }
    if i != b.len() {
        return None;
    }
    clean.parse().ok()
}

/// Reads `digit (_? digit)*` (possibly empty) into `out`; `None` for a misplaced underscore.
fn digit_part(b: &[u8], i: &mut usize, out: &mut String) -> Option<usize> {
    let mut n = 0;
    while let Some(&c) = b.get(*i) {
        if c.is_ascii_digit() {
            out.push(c as char);
            n += 1;
            *i += 1;
        } else if c == b'_' {
            let next_digit = b.get(*i + 1).is_some_and(u8::is_ascii_digit);
            if n == 0 || !next_digit {
                return None;
            }
            *i += 1;
        } else {
            break;
        }
    }
    Some(n)
}

/// The exact decimal digits of an integral float (Python's `str(int(x))`).
fn exact_integer(value: f64) -> String {
    if value.abs() < 9.0e15 {
        return format!("{}", value as i64);
    }
    let bits = value.to_bits();
    let negative = bits >> 63 == 1;
    let exponent = ((bits >> 52) & 0x7ff) as i32 - 1075;
    let mantissa = (bits & ((1u64 << 52) - 1)) | (1u64 << 52);
    // value = mantissa * 2^exponent with exponent > 0 here (|value| >= 2^53).
    // Decimal digits, least significant first, in base 10^9.
    let mut limbs: Vec<u64> = vec![mantissa % 1_000_000_000, mantissa / 1_000_000_000];
    for _ in 0..exponent {
        let mut carry = 0;
        for limb in limbs.iter_mut() {
            let v = *limb * 2 + carry;
            *limb = v % 1_000_000_000;
            carry = v / 1_000_000_000;
        }
        if carry > 0 {
            limbs.push(carry);
        }
    }
    while limbs.len() > 1 && limbs.last() == Some(&0) {
        limbs.pop();
    }
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    let mut iter = limbs.iter().rev();
    if let Some(first) = iter.next() {
        out.push_str(&first.to_string());
    }
    for limb in iter {
        out.push_str(&format!("{limb:09}"));
    }
    out
}

/// Python's `repr` of a finite float: the shortest digits that read back as it, positional
/// for decimal exponents -4..16, else `d.ddde-XX`.
fn python_repr(value: f64) -> String {
    let sci = format!("{:e}", value.abs());
    let (mantissa, exp) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let digits: String = mantissa.chars().filter(|c| *c != '.').collect();
    let sign = if value.is_sign_negative() { "-" } else { "" };
    if (-4..16).contains(&exp) {
        let point = exp + 1;
        if point <= 0 {
            return format!("{sign}0.{}{digits}", "0".repeat((-point) as usize));
        }
        let point = point as usize;
        if digits.len() <= point {
            return format!("{sign}{digits}{}.0", "0".repeat(point - digits.len()));
        }
        return format!("{sign}{}.{}", &digits[..point], &digits[point..]);
    }
    let (first, rest) = digits.split_at(1);
    let rest = if rest.is_empty() {
        String::new()
    } else {
        format!(".{rest}")
    };
    let esign = if exp < 0 { '-' } else { '+' };
    format!("{sign}{first}{rest}e{esign}{:02}", exp.abs())
}

/// An ISO 8601 timestamp with an offset (`2019-10-21T11:00:30.000+01:00`, `...Z`), in UTC at
/// millisecond precision (`2019-10-21T10:00:30.000Z`): rules 8 and 9. Fractions beyond
/// microseconds are cut, then rounded to milliseconds half to even, like the reference
/// implementation. A timestamp without an offset is refused: its UTC time would depend on the
/// clock's time zone.
pub fn utc_millis_text(text: &str) -> Result<String, HashError> {
    let ms = parse_timestamp_ms(text)?;
    Ok(format_utc_ms(ms))
}

/// Milliseconds since the Unix epoch of an ISO 8601 timestamp with an offset, rounded like
/// [`utc_millis_text`].
pub fn parse_timestamp_ms(text: &str) -> Result<i64, HashError> {
    let bad = |why: &str| HashError::Timestamp {
        value: text.chars().take(80).collect(),
        reason: why.to_string(),
    };
    let b = text.as_bytes();
    let num = |range: std::ops::Range<usize>| -> Option<i64> {
        let s = text.get(range)?;
        if s.bytes().all(|c| c.is_ascii_digit()) && !s.is_empty() {
            s.parse().ok()
        } else {
            None
        }
    };
    let year = num(0..4).ok_or_else(|| bad("no four-digit year"))?;
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't'))
    {
        return Err(bad("not YYYY-MM-DDTHH:MM:SS"));
    }
    let month = num(5..7).ok_or_else(|| bad("bad month"))?;
    let day = num(8..10).ok_or_else(|| bad("bad day"))?;
    let hour = num(11..13).ok_or_else(|| bad("bad hour"))?;
    if b.get(13) != Some(&b':') {
        return Err(bad("not HH:MM"));
    }
    let minute = num(14..16).ok_or_else(|| bad("bad minute"))?;
    let mut i = 16;
    let mut second = 0;
    let mut micros = 0i64;
    if b.get(i) == Some(&b':') {
        second = num(17..19).ok_or_else(|| bad("bad second"))?;
        i = 19;
        if b.get(i) == Some(&b'.') {
            i += 1;
            let start = i;
            while b.get(i).is_some_and(u8::is_ascii_digit) {
                i += 1;
            }
            if i == start {
                return Err(bad("empty fraction of a second"));
            }
            let frac = &text[start..i];
            let six: String = frac.chars().chain(std::iter::repeat('0')).take(6).collect();
            micros = six.parse().map_err(|_| bad("bad fraction"))?;
        }
    }
    let offset_min = match b.get(i) {
        Some(b'Z' | b'z') if i + 1 == b.len() => 0,
        Some(&s @ (b'+' | b'-')) => {
            let rest = &text[i + 1..];
            let (h, m) = match rest.len() {
                5 if rest.as_bytes()[2] == b':' => (&rest[0..2], &rest[3..5]),
                4 => (&rest[0..2], &rest[2..4]),
                2 => (rest, "00"),
                _ => return Err(bad("bad offset")),
            };
            let h: i64 = h
                .parse()
                .ok()
                .filter(|_| h.bytes().all(|c| c.is_ascii_digit()))
                .ok_or_else(|| bad("bad offset hour"))?;
            let m: i64 = m
                .parse()
                .ok()
                .filter(|_| m.bytes().all(|c| c.is_ascii_digit()))
                .ok_or_else(|| bad("bad offset minute"))?;
            if h > 23 || m > 59 {
                return Err(bad("offset out of range"));
            }
            let total = h * 60 + m;
            if s == b'-' {
                -total
            } else {
                total
            }
        }
        None => return Err(bad("no time zone offset (Z or +HH:MM)")),
        _ => return Err(bad("trailing characters")),
    };
    if !(1..=12).contains(&month)
        || day < 1
        || day > days_in_month(year, month)
        || hour > 23
        || minute > 59
        || second > 59
    {
        return Err(bad("date or time out of range"));
    }
    // Round microseconds to milliseconds, half to even (Python's round(us, -3)).
    let (q, r) = (micros / 1000, micros % 1000);
    let millis = if r > 500 || (r == 500 && q % 2 == 1) {
        q + 1
    } else {
        q
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3600 + minute * 60 + second - offset_min * 60;
    Ok(seconds * 1000 + millis)
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ` of milliseconds since the Unix epoch.
pub fn format_utc_ms(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let tod = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        tod / 3600,
        tod % 3600 / 60,
        tod % 60
    )
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_like_the_reference_implementation() {
        for (input, want) in [
            ("600", "600"),
            ("26.0", "26"),
            ("12.10", "12.1"),
            ("0012", "12"),
            ("+5", "5"),
            ("-0", "0"),
            ("1e3", "1000"),
            ("1_000", "1000"),
            ("0.00001", "1e-05"),
            ("0.0001", "0.0001"),
            ("12345678901234567890", "12345678901234567168"),
            ("1e22", "10000000000000000000000"),
            ("-2.5e-7", "-2.5e-07"),
            ("123.456", "123.456"),
            ("nan", "nan"),
            ("4711a", "4711a"),
            ("1__0", "1__0"),
            (".5", "0.5"),
            ("5.", "5"),
            ("", ""),
            ("e5", "e5"),
        ] {
            assert_eq!(numeric(input).unwrap(), want, "{input}");
        }
        assert!(numeric("-Infinity").is_err());
    }

    #[test]
    fn timestamps_become_utc_milliseconds() {
        for (input, want) in [
            ("2019-10-21T11:00:30.000+01:00", "2019-10-21T10:00:30.000Z"),
            ("2005-04-04T20:33:31.116-06:00", "2005-04-05T02:33:31.116Z"),
            ("2023-01-11T12:00:00+01:00", "2023-01-11T11:00:00.000Z"),
            ("2020-02-29T23:59:59.9994Z", "2020-02-29T23:59:59.999Z"),
            ("2020-01-01T00:00:00.0005Z", "2020-01-01T00:00:00.000Z"),
            ("2020-01-01T00:00:00.0015Z", "2020-01-01T00:00:00.002Z"),
            ("2020-01-01T00:00:00.0025Z", "2020-01-01T00:00:00.002Z"),
            ("1999-12-31T23:30:00-01:00", "2000-01-01T00:30:00.000Z"),
        ] {
            assert_eq!(utc_millis_text(input).unwrap(), want, "{input}");
        }
        for bad in [
            "2019-10-21T11:00:30",
            "2019-02-30T11:00:30Z",
            "yesterday",
            "2019-10-21T11:00:30+25:00",
        ] {
            assert!(utc_millis_text(bad).is_err(), "{bad}");
        }
    }
}
