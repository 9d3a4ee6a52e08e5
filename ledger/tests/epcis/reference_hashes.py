"""Prints the CBV 2.0 event hash IDs GS1's reference implementation (the PyPI package
epcis-event-hash-generator) gives the events of each JSON-LD document named on the command line,
as one JSON object: {path: [hash ID or null per event]}. Exit code 3 when the package is missing.

The reference implementation reads each document's namespaces into a module-level dictionary,
so it is cleared between documents.
"""
import json
import logging
import sys

logging.disable(logging.CRITICAL)
try:
    from epcis_event_hash_generator import hash_generator, json_to_py
except ImportError as e:  # pragma: no cover
    print(f"epcis-event-hash-generator is not installed: {e}", file=sys.stderr)
    sys.exit(3)

out = {}
for path in sys.argv[1:]:
    json_to_py._namespaces.clear()
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    events = json_to_py.event_list_from_epcis_document_json(doc)
    hashes = []
    # One event at a time, so that an event the reference cannot hash shows as null instead of
    # shifting the rest.
    for event in events[2]:
        pre = hash_generator.derive_prehashes_from_events(("EventList", "", [event]))
        hashes.append(hash_generator.calculate_hashes_from_pre_hashes(pre)[0] if pre else None)
    out[path] = hashes
print(json.dumps(out))
