"""Strict hex and BCS (SIGNING.md, "The canonical encoding: BCS")."""


class WaybillError(ValueError):
    """A refused input; the message names what and where."""


def from_hex(x, what="hex"):
    """Lower-case hex with no prefix, the only hex Waybill reads or writes."""
    if not isinstance(x, str) or len(x) % 2 or any(c not in "0123456789abcdef" for c in x):
        raise WaybillError(f"{what}: expected lower-case hex digits with no 0x prefix")
    return bytes.fromhex(x)


def uleb(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            return bytes(out)


def tagged(tag, body):
    """signing_bytes(tag, body) = ULEB128(len(tag)) || tag || body."""
    t = tag.encode()
    return uleb(len(t)) + t + body


class Writer:
    def __init__(self):
        self.out = bytearray()

    def bytes(self):
        return bytes(self.out)

    def raw(self, b):
        self.out += b
        return self

    def u8(self, n):
        self.out.append(n)
        return self

    def uleb(self, n):
        self.out += uleb(n)
        return self

    def int(self, v, size, signed=False):
        try:
            self.out += int(v).to_bytes(size, "little", signed=signed)
        except OverflowError:
            raise WaybillError(f"{v} does not fit in {size} bytes") from None
        return self

    def u64(self, v):
        if isinstance(v, bool) or not isinstance(v, int) or v < 0:
            raise WaybillError(f"{v!r} is not a u64")
        return self.int(v, 8)

    def str(self, s):
        b = s.encode()
        return self.uleb(len(b)).raw(b)

    def blob(self, b):
        return self.uleb(len(b)).raw(b)

    def fixed(self, b, n, what):
        if len(b) != n:
            raise WaybillError(f"{what}: expected {n} bytes, got {len(b)}")
        return self.raw(b)

    def opt(self, v, f):
        if v is None:
            return self.u8(0)
        self.u8(1)
        f(v)
        return self

    def vec(self, xs, f):
        self.uleb(len(xs))
        for x in xs:
            f(x)
        return self


class Reader:
    """Strict BCS: minimal ULEB128, valid UTF-8, tags in range, nothing left over."""

    def __init__(self, b):
        self.b, self.i = bytes(b), 0

    def take(self, n):
        if self.i + n > len(self.b):
            raise WaybillError("canonical bytes are truncated")
        out = self.b[self.i:self.i + n]
        self.i += n
        return out

    def uleb(self):
        n = shift = 0
        while True:
            if shift > 28:
                raise WaybillError("ULEB128 longer than 32 bits")
            b = self.take(1)[0]
            n |= (b & 0x7F) << shift
            if not b & 0x80:
                if b == 0 and shift:
                    raise WaybillError("ULEB128 is not minimal")
                if n > 0xFFFFFFFF:
                    raise WaybillError("ULEB128 longer than 32 bits")
                return n
            shift += 7

    def tag(self, limit):
        t = self.uleb()
        if t >= limit:
            raise WaybillError(f"variant {t} out of range")
        return t

    def int(self, size, signed=False):
        return int.from_bytes(self.take(size), "little", signed=signed)

    def str(self):
        try:
            return self.take(self.uleb()).decode("utf-8")
        except UnicodeDecodeError:
            raise WaybillError("invalid UTF-8 in a string") from None

    def blob_hex(self):
        return self.take(self.uleb()).hex()

    def fixed_hex(self, n):
        return self.take(n).hex()

    def opt(self, f):
        return f() if self.tag(2) else None

    def vec(self, f):
        return [f() for _ in range(self.uleb())]

    def done(self, what):
        if self.i != len(self.b):
            raise WaybillError(f"{len(self.b) - self.i} bytes left over after the {what}")
