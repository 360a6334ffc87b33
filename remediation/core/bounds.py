"""A record that always fits a Table row: long lists cut to their first entries plus a count. Pure.

Anyone who can request a private endpoint connection can leave thousands of them on an account, and each
lands in the record's `before`, `after` and findings. An Azure Table entity holds at most 1 MiB, strings
counted in UTF-16 (two bytes a character), and one string property at most 64 KiB; the table sink writes the
record's JSON in chunks of 30,000 characters. `bounded` keeps a record's JSON under MAX_RECORD_CHARS (a third
of an entity), cutting harder until it fits:

- a list longer than the limit keeps its first entries, and `<key>Omitted` beside it says how many were cut;
- a string longer than the limit keeps its start and says how many characters were cut.

json.dumps escapes every non-ASCII character, so the JSON text's length is also its length in UTF-16 units.
"""

from __future__ import annotations

import json
from typing import Any

MAX_RECORD_CHARS = 300_000
_STEPS = ((50, 4000), (10, 1000), (3, 200))  # (entries kept of a list, characters kept of a string)
_KEPT = ("id", "time", "resourceId", "kind", "trigger", "mode", "outcome", "durationMs", "eventToFixMs",
         "eventToClosedMs", "errorKind")


def size(record: Any) -> int:
    return len(json.dumps(record, default=str))


def bounded(record: dict[str, Any]) -> dict[str, Any]:
    """The record itself when it fits; else the same record with long lists and strings cut."""
    if size(record) <= MAX_RECORD_CHARS:
        return record
    for items, chars in _STEPS:
        cut = _cut(record, items, chars)
        if size(cut) <= MAX_RECORD_CHARS:
            return cut  # type: ignore[no-any-return]
    # Still too large (a record of very many keys): its identity and outcome, and that the rest was cut.
    return {**{k: record.get(k) for k in _KEPT},
            "error": "the record was too large to keep; its telemetry line has the findings",
            "truncated": True}


def _cut(value: Any, items: int, chars: int) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key, item in value.items():
            if isinstance(item, list):
                out[key] = [_cut(entry, items, chars) for entry in item[:items]]
                if len(item) > items:
                    out[f"{key}Omitted"] = len(item) - items
            else:
                out[key] = _cut(item, items, chars)
        return out
    if isinstance(value, list):  # a list inside a list: no key to put the count beside, so it ends the list
        kept = [_cut(entry, items, chars) for entry in value[:items]]
        return kept + ([f"… {len(value) - items} more"] if len(value) > items else [])
    if isinstance(value, str) and len(value) > chars:
        return f"{value[:chars]}… ({len(value) - chars} more characters)"
    return value
