"""Waybill's one Ed25519 verification rule (docs/SIGNING.md, "The signature rule"), in plain
Python, so that this SDK accepts exactly the signatures validators accept:

- the key A and the signature's R are canonical encodings (y below the field prime) of points
  that are not of small order, and s is below the group order L;
- the cofactored equation holds: [8]([s]B - [k]A - R) = 0, with k = SHA-512(R || A || M) mod L.

libsodium (PyNaCl's verify) uses the cofactorless equation, which refuses a valid signature whose
R carries a small-order component; validators accept those, because only the cofactored rule lets
their batch and single checks agree. Signing stays with PyNaCl: every signature it makes passes.
"""
import hashlib

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)
IDENTITY = (0, 1, 1, 0)


def _add(p, q):
    """Sum of two points in extended coordinates (X, Y, Z, T), x = X/Z, y = Y/Z, xy = T/Z."""
    x1, y1, z1, t1 = p
    x2, y2, z2, t2 = q
    a = (y1 - x1) * (y2 - x2) % P
    b = (y1 + x1) * (y2 + x2) % P
    c = 2 * t1 * t2 * D % P
    d = 2 * z1 * z2 % P
    e, f, g, h = b - a, d - c, d + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _neg(p):
    x, y, z, t = p
    return (-x % P, y, z, -t % P)


def _mul(n, p):
    q = IDENTITY
    while n:
        if n & 1:
            q = _add(q, p)
        p = _add(p, p)
        n >>= 1
    return q


def _is_identity(p):
    x, y, z, _ = p
    return x % P == 0 and (y - z) % P == 0


def _decode(b):
    """The point 32 bytes encode, or None: not canonical (y >= p) or not on the curve."""
    n = int.from_bytes(b, "little")
    sign, y = n >> 255, n & ((1 << 255) - 1)
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P) % P
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P:
        return None
    if x == 0 and sign:
        return None
    if x & 1 != sign:
        x = P - x
    return (x, y, 1, x * y % P)


def _small_order(p):
    return _is_identity(_mul(8, p))


B = _decode((4 * pow(5, P - 2, P) % P).to_bytes(32, "little"))


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Whether `signature` by `public_key` over `message` passes Waybill's rule."""
    if len(public_key) != 32 or len(signature) != 64:
        return False
    a, r = _decode(public_key), _decode(signature[:32])
    if a is None or r is None or _small_order(a) or _small_order(r):
        return False
    s = int.from_bytes(signature[32:], "little")
    if s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(signature[:32] + public_key + message).digest(), "little") % L
    return _is_identity(_mul(8, _add(_add(_mul(s, B), _neg(_mul(k, a))), _neg(r))))
