"""Key files (SIGNING.md, "Key files"): TOML with kind, public_key and secret_key, mode 0600."""
import os
import stat
import tomllib

from nacl.signing import SigningKey

from .bcs import WaybillError, from_hex
from .tx import public_key_of


class Key:
    def __init__(self, kind, public_key, secret):
        self.kind, self.public_key, self.secret = kind, public_key, secret


def parse_key_file(text, where="key file"):
    """A key from a key file's text: exactly the three members, the public key the secret's."""
    if len(text.encode()) > 4096:
        raise WaybillError(f"{where}: larger than 4096 bytes")
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise WaybillError(f"{where}: {e}") from None
    if set(doc) != {"kind", "public_key", "secret_key"}:
        raise WaybillError(f"{where}: expected exactly kind, public_key and secret_key")
    secret = from_hex(doc["secret_key"], f"{where}: secret_key")
    if len(secret) != 32:
        raise WaybillError(f"{where}: secret_key must be 32 bytes (64 hex digits)")
    public = public_key_of(secret)
    if doc["public_key"] != public:
        raise WaybillError(f"{where}: public_key {doc['public_key']} does not match the secret key (which gives {public})")
    return Key(doc["kind"], public, secret)


def read_key_file(path):
    """Reads a key file, refusing one that group or others can read (as the node does)."""
    mode = stat.S_IMODE(os.stat(path).st_mode)
    if os.name == "posix" and mode & 0o077:
        raise WaybillError(f"key file {path} is readable by group or others (mode {mode:o}); run: chmod 600 {path}")
    with open(path, encoding="utf-8") as f:
        return parse_key_file(f.read(), f"key file {path}")


def generate_key_file(path, kind="account"):
    """Writes a fresh key file with mode 0600; never overwrites."""
    key = SigningKey.generate()
    secret = bytes(key)
    public = key.verify_key.encode().hex()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(f"# Waybill {kind} key. Secret: keep this file private (mode 0600).\n"
                f'kind = "{kind}"\npublic_key = "{public}"\nsecret_key = "{secret.hex()}"\n')
    return Key(kind, public, secret)
