"""Reading ARM JSON: nested keys matched case-insensitively, enum values compared case-insensitively.

Resource Manager payloads vary in casing (`Authorization.Scope` in real deliveries, `authorization.scope` in
the docs; `Disabled` and `disabled`), so every module that reads one goes through these two functions.
Case is ignored for ASCII letters only, as for IDs (`ids.fold`).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from remediation.core.ids import fold


def json_get(mapping: Any, *path: str) -> Any:
    """The value at `path` inside nested objects, keys matched case-insensitively; None when absent."""
    node = mapping
    for key in path:
        if not isinstance(node, Mapping):
            return None
        if key in node:
            node = node[key]
            continue
        folded = fold(key)
        node = next((value for k, value in node.items() if isinstance(k, str) and fold(k) == folded), None)
    return node


def same_text(value: Any, expected: Any) -> bool:
    """Two non-empty strings equal but for case (ARM enums are case-insensitive: `Disabled` == `disabled`)."""
    return isinstance(value, str) and isinstance(expected, str) and bool(value) and fold(value) == fold(expected)
