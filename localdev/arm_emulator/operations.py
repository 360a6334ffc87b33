"""The operations each resource provider publishes for Azure RBAC (`data/rbac/operations-*.txt`, from
Microsoft's "Azure permissions" pages; see data/rbac/README.md).

Resource Manager refuses a role definition naming an action, or a wildcard, that matches none of these
(400 `InvalidActionOrNotAction`), and the emulator's linked checks ask whether a provider publishes an
action at all (`<type>/privateEndpointConnectionsApproval/action`). Names compare case-insensitively, as
Azure RBAC compares them.
"""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "rbac"


@dataclass(frozen=True)
class Operation:
    name: str
    data: bool          # a dataAction (data plane), else a control plane action
    description: str


@functools.lru_cache(maxsize=4096)
def pattern(text: str) -> re.Pattern[str]:
    """An action string as a pattern: `*` stands for any run of characters, `/` included
    ("Microsoft.Compute/virtualMachines/*" grants the VMs' child resource types too; Learn, "Understand
    Azure role definitions", section Actions), and case is ignored."""
    return re.compile("^" + ".*".join(re.escape(part) for part in text.split("*")) + "$", re.IGNORECASE)


def provider_of(action: str) -> str:
    """The namespace an action string names ("" when its first segment holds a wildcard)."""
    head = action.split("/", 1)[0]
    return "" if "*" in head else head.lower()


class Catalogue:
    """Published operations, looked up by exact name or matched by a wildcard pattern."""

    def __init__(self, operations: Iterable[Operation]) -> None:
        self._names: dict[tuple[bool, str], str] = {}
        self._providers: set[str] = set()
        for op in operations:
            self._names.setdefault((op.data, op.name.lower()), op.name)
            self._providers.add(provider_of(op.name))
        self._by_kind = {data: [name for (d, _), name in self._names.items() if d == data] for data in (False, True)}

    @classmethod
    def load(cls, folder: Path = DATA) -> Catalogue:
        return cls(op for path in sorted(folder.glob("operations-*.txt")) for op in _read(path))

    @property
    def providers(self) -> frozenset[str]:
        """Lower-case namespaces with a published list."""
        return frozenset(self._providers)

    def published(self, action: str, data: bool = False) -> str | None:
        """The published spelling of an exact action name, or None."""
        return self._names.get((data, action.lower()))

    def matching(self, text: str, data: bool = False) -> list[str]:
        """Published names an action string (wildcards allowed) matches."""
        if "*" not in text:
            found = self.published(text, data)
            return [found] if found else []
        regex = pattern(text)
        return [name for name in self._by_kind[data] if regex.match(name)]


def _read(path: Path) -> Iterable[Operation]:
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line or line.startswith("#"):
            continue
        kind, name, description = line.split("\t")
        yield Operation(name=name, data=kind == "dataAction", description=description)


@functools.lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The catalogue in data/rbac, read once per process."""
    return Catalogue.load()
