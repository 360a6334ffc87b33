"""Index a function app the way the Python worker does, and print what the host would see.

    .venv313/bin/python tests/app/index_with_runtime.py path/to/function_app.py

Runs under Python 3.13+ with azure-functions-runtime (the worker library the Functions host
loads for Python 3.13+). The worker's own loader imports the app, collects its functions and
validates them against the binding registry; the gRPC protos the host normally supplies are
replaced by a stub that just records what the loader builds.

Prints a JSON list, one object per function:
    {"name", "script_file", "entry_point", "raw_bindings": [<parsed JSON>...], "bindings": {...}}
Exits 1 (message on stderr) when the loader rejects the app, e.g. with FunctionLoadError.
"""

from __future__ import annotations

import enum
import json
import os
import sys
import traceback
from pathlib import Path
from types import SimpleNamespace
from typing import Any


class _Message:
    """Stands in for a protobuf message: keeps its keyword arguments as attributes."""

    def __init__(self, **fields: Any) -> None:
        self.__dict__.update(fields)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.__dict__!r})"


class BindingInfo(_Message):
    pass


# protos.BindingInfo.Direction and .DataType values, as in FunctionRpc.proto.
for _name, _value in {"in": 0, "out": 1, "inout": 2, "undefined": 0, "string": 1,
                      "binary": 2, "stream": 3}.items():
    setattr(BindingInfo, _name, _value)

_DIRECTIONS = {0: "in", 1: "out", 2: "inout"}


class RpcFunctionMetadata(_Message):
    pass


class RpcRetryOptions(_Message):
    pass


PROTOS = SimpleNamespace(
    BindingInfo=BindingInfo,
    RpcFunctionMetadata=RpcFunctionMetadata,
    RpcRetryOptions=RpcRetryOptions,
)


def _plain(value: Any) -> Any:
    """Enum and other SDK values as JSON-friendly ones."""
    if isinstance(value, enum.Enum):
        return value.name if not isinstance(value.value, (int, str)) else value.value
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return str(value)


def describe(metadata: RpcFunctionMetadata) -> dict[str, Any]:
    bindings = {}
    for name, info in metadata.bindings.items():
        direction = _plain(info.direction)
        bindings[name] = {
            "type": info.type,
            "direction": _DIRECTIONS.get(direction, direction),
            "data_type": _plain(info.data_type),
        }
    result: dict[str, Any] = {
        "name": metadata.name,
        "script_file": metadata.script_file,
        "entry_point": metadata.entry_point,
        "raw_bindings": [json.loads(raw) for raw in metadata.raw_bindings],
        "bindings": bindings,
    }
    retry = metadata.retry_options
    if retry is not None:
        result["retry"] = {k: _plain(v) for k, v in vars(retry).items()}
    return result


def index(function_path: Path) -> list[dict[str, Any]]:
    from azure_functions_runtime import loader
    from azure_functions_runtime.bindings import meta
    from azure_functions_runtime.functions import Registry

    app_dir = function_path.parent
    # The host starts the worker in the app's directory with the app on sys.path.
    os.chdir(app_dir)
    sys.path.insert(0, str(app_dir))
    meta.load_binding_registry()  # else: 'NoneType' object has no attribute 'get'
    indexed = loader.index_function_app(str(function_path))
    metadata, _logs = loader.process_indexed_function(PROTOS, Registry(), indexed, str(app_dir))
    return [describe(m) for m in metadata]


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print(f"usage: {argv[0]} path/to/function_app.py", file=sys.stderr)
        return 2
    function_path = Path(argv[1]).resolve()
    if not function_path.is_file():
        print(f"error: {function_path} does not exist", file=sys.stderr)
        return 2
    try:
        from azure_functions_runtime.functions import FunctionLoadError
    except ImportError as exc:
        print(f"error: azure-functions-runtime is not importable here ({sys.executable}): {exc}\n"
              "run `make deps` and use .venv313/bin/python", file=sys.stderr)
        return 2
    out, sys.stdout = sys.stdout, sys.stderr  # whatever the app prints must not spoil the JSON
    try:
        functions = index(function_path)
    except FunctionLoadError as exc:
        print(f"FunctionLoadError: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # noqa: BLE001 - import errors in the app, duplicate names, no FunctionApp...
        traceback.print_exc()
        print(f"error: indexing {function_path} failed: {type(exc).__name__}: {exc}",
              file=sys.stderr)
        return 1
    finally:
        sys.stdout = out
    json.dump(functions, out, indent=2)
    out.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
