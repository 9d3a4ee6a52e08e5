"""Generates openrpc_types.py from clients/openrpc.json (what the node's rpc.discover answers;
rpc/tests/openrpc_snapshot.rs keeps that file current, tests/test_openrpc.py keeps this output
current). Run from clients/python: python3 -m waybill_client.gen"""
import json
from pathlib import Path

OPENRPC = Path(__file__).resolve().parents[2] / "openrpc.json"
OUTPUT = Path(__file__).resolve().parent / "openrpc_types.py"

_SCALARS = {"string": "str", "integer": "int", "number": "float | int | Decimal", "boolean": "bool", "null": "None"}


def _py(schema):
    if not isinstance(schema, dict) or not [k for k in schema if k != "description"]:
        return "Any"
    if "$ref" in schema:
        return schema["$ref"].rsplit("/", 1)[1]
    if "oneOf" in schema:
        return " | ".join(_py(s) for s in schema["oneOf"])
    if "enum" in schema:
        return "Literal[" + ", ".join(json.dumps(v) for v in schema["enum"]) + "]"
    if "const" in schema:
        return f"Literal[{json.dumps(schema['const'])}]"
    t = schema.get("type")
    if isinstance(t, list):
        return " | ".join(_py(dict(schema, type=x)) for x in t)
    if t == "array":
        return f"list[{_py(schema.get('items'))}]"
    if t == "object":
        extra = schema.get("additionalProperties")
        if not schema.get("properties"):
            return f"dict[str, {_py(extra) if isinstance(extra, dict) else 'Any'}]"
        return "dict[str, Any]"
    return _py_scalar(t)


def _py_scalar(t):
    return _SCALARS.get(t, "Any")


def generate(doc):
    out = ['"""Generated from clients/openrpc.json (the node\'s rpc.discover document) by',
           'waybill_client.gen: do not edit. python3 -m waybill_client.gen regenerates it."""',
           "from decimal import Decimal  # noqa: F401",
           "from typing import Any, Literal, NotRequired, TypedDict  # noqa: F401", ""]
    for name, schema in doc["components"]["schemas"].items():
        props = schema.get("properties") if schema.get("type") == "object" else None
        if props:
            required = set(schema.get("required", []))
            fields = ", ".join(
                f"{json.dumps(k)}: {json.dumps(_py(v) if k in required else f'NotRequired[{_py(v)}]')}"
                for k, v in props.items())
            out.append(f"{name} = TypedDict({json.dumps(name)}, {{{fields}}})")
        else:
            out.append(f"{name} = {json.dumps(_py(schema))}")
    out += ["", "", "# Every method: its positional parameters (name, type, required) and its result type.",
            "METHODS = {"]
    for m in doc["methods"]:
        params = ", ".join(f"({json.dumps(p['name'])}, {json.dumps(_py(p['schema']))}, {p['required']})"
                           for p in m["params"])
        out.append(f"    {json.dumps(m['name'])}: {{\"params\": [{params}], \"result\": {json.dumps(_py(m['result']['schema']))}}},")
    out += ["}", ""]
    return "\n".join(out)


if __name__ == "__main__":
    OUTPUT.write_text(generate(json.loads(OPENRPC.read_text(encoding="utf-8"))), encoding="utf-8")
