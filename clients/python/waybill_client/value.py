"""Typed canonical values (SIGNING.md, "Values inside signed objects"): property and reading
values are signed as typed values, so 412.5 and 412.50 are one value.

Read JSON with ``json.loads(text, parse_float=decimal.Decimal)`` to keep numbers exact."""
import re
from decimal import Decimal

from .bcs import Reader, WaybillError, Writer

MAX_SAFE_INTEGER = 2**53 - 1
MAX_DIGITS = 15
MAX_EXPONENT = 300
MAX_DEPTH = 64
_NUMBER = re.compile(r"^(-)?(0|[1-9][0-9]*)(?:\.([0-9]+))?(?:[eE]([+-]?[0-9]+))?$")


def number_of(text):
    """("integer", n) or ("decimal", mantissa, exponent) of a JSON number text."""
    m = _NUMBER.match(text)
    if not m:
        raise WaybillError(f"{text} is not a JSON number")
    negative, frac = m.group(1) == "-", m.group(3) or ""
    exp_text = m.group(4) or "0"
    exp = int(exp_text) if len(exp_text.lstrip("+-").lstrip("0")) <= 6 else (-10**7 if exp_text.startswith("-") else 10**7)
    trimmed = (m.group(2) + frac).lstrip("0")
    if not trimmed:
        return ("integer", 0)
    significant = trimmed.rstrip("0")
    exponent = exp - len(frac) + (len(trimmed) - len(significant))
    count = len(significant)
    sign = -1 if negative else 1
    if exponent >= 0 and count + exponent <= 16:
        magnitude = int(significant) * 10**exponent
        if magnitude <= MAX_SAFE_INTEGER:
            return ("integer", sign * magnitude)
    if count > MAX_DIGITS or exponent < -MAX_EXPONENT or count + exponent > MAX_EXPONENT:
        raise WaybillError(
            f"number {text} cannot be kept exactly by every JSON tool: use an integer of at most "
            "2^53 - 1, or at most 15 significant digits between 1e-300 and 1e300 (or a string)")
    return ("decimal", sign * int(significant), exponent)


def _number_text(v):
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise WaybillError(f"{v} is not a JSON number")
        return repr(v).replace("e+", "e")
    if isinstance(v, Decimal):
        if not v.is_finite():
            raise WaybillError(f"{v} is not a JSON number")
        return str(v).replace("E+", "e").replace("E", "e")
    return str(v)


def _key(s):
    return s.encode()


def write_value(w, v, depth=0):
    if v is None:
        w.u8(0)
    elif isinstance(v, bool):
        w.u8(1).u8(1 if v else 0)
    elif isinstance(v, (int, float, Decimal)):
        n = number_of(_number_text(v))
        if n[0] == "integer":
            w.u8(2).int(n[1], 8, signed=True)
        else:
            w.u8(3).int(n[1], 8, signed=True).int(n[2], 2, signed=True)
    elif isinstance(v, str):
        w.u8(4).str(v)
    elif depth >= MAX_DEPTH:
        raise WaybillError("value nested too deep")
    elif isinstance(v, (list, tuple)):
        w.u8(5).vec(v, lambda x: write_value(w, x, depth + 1))
    elif isinstance(v, dict):
        w.u8(6).uleb(len(v))
        for k in sorted(v, key=_key):
            w.str(k)
            write_value(w, v[k], depth + 1)
    else:
        raise WaybillError(f"{type(v).__name__} is not a JSON value")


def value_bytes(v):
    w = Writer()
    write_value(w, v)
    return w.bytes()


def read_value(r, depth=0):
    """A value, strictly; decimals come back as decimal.Decimal, integers as int."""
    t = r.tag(7)
    if t == 0:
        return None
    if t == 1:
        return r.tag(2) == 1
    if t == 2:
        i = r.int(8, signed=True)
        if abs(i) > MAX_SAFE_INTEGER:
            raise WaybillError("integer beyond 2^53 - 1")
        return i
    if t == 3:
        m, e = r.int(8, signed=True), r.int(2, signed=True)
        digits = len(str(abs(m)))
        if m == 0 or m % 10 == 0 or abs(m) >= 10**15 or e < -MAX_EXPONENT or digits + e > MAX_EXPONENT:
            raise WaybillError("decimal not in canonical form")
        if e >= 0 and digits + e <= 16 and abs(m) * 10**e <= MAX_SAFE_INTEGER:
            raise WaybillError("decimal that must be an integer")
        return Decimal(m).scaleb(e)
    if t == 4:
        return r.str()
    if depth >= MAX_DEPTH:
        raise WaybillError("value nested too deep")
    if t == 5:
        return r.vec(lambda: read_value(r, depth + 1))
    out, last = {}, None
    for _ in range(r.uleb()):
        k = r.str()
        if last is not None and _key(k) <= _key(last):
            raise WaybillError("object members out of order")
        last = k
        out[k] = read_value(r, depth + 1)
    return out


def depth(v):
    """Nesting depth (SIGNING.md, "Nesting"): 0 for a scalar, 1 + the deepest element otherwise."""
    if isinstance(v, (list, tuple)):
        return 1 + max((depth(x) for x in v), default=0)
    if isinstance(v, dict):
        return 1 + max((depth(x) for x in v.values()), default=0)
    return 0


def same_number(decoded, view):
    """Whether a view's number (int, float or Decimal) is the decoded number, as values."""
    if isinstance(view, bool) or not isinstance(view, (int, float, Decimal)):
        return False
    return Decimal(repr(view) if isinstance(view, float) else view) == Decimal(decoded)
