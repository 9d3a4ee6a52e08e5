"""Reading the docs' vectors and example proofs: the SDK is tested against the pages a stranger reads."""
import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[3] / "docs"


def doc(name):
    return (DOCS / name).read_text(encoding="utf-8")


def code_blocks(text):
    return re.findall(r"```[a-z]*\n(.*?)```", text, re.S)


def table(text, heading):
    """Rows of the first table after `heading`, cells with backticks removed (header rows dropped)."""
    rest = text.split(heading, 1)[1].split("\n")
    start = next(i for i, line in enumerate(rest) if line.startswith("|"))
    rows = []
    for line in rest[start:]:
        if not line.startswith("|"):
            break
        rows.append([c.strip().strip("`") for c in line.strip("|").split(" | ")])
    return rows[2:]
