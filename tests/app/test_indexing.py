"""function_app.py as the Functions host sees it: indexed by the Python worker's own loader.

The loader (azure-functions-runtime) needs Python 3.13, so it runs in .venv313 (``make deps``)
through index_with_runtime.py, which prints the host-visible metadata as JSON.
"""

from __future__ import annotations

import json
import os
import subprocess
import textwrap
from pathlib import Path
from typing import Any

import pytest

from remediation.store.storage import WORK_QUEUE

REPO = Path(__file__).resolve().parents[2]
INDEXER = Path(__file__).resolve().with_name("index_with_runtime.py")
PYTHON313 = REPO / ".venv313" / "bin" / "python"

# Safe settings, so that nothing the app reads at import time points anywhere real.
DUMMY_SETTINGS = {
    "REMEDIATION_SCOPES": "/subscriptions/00000000-0000-0000-0000-000000000000",
    "AzureWebJobsStorage": "UseDevelopmentStorage=true",
}

HTTP_RETURN = {"direction": "OUT", "type": "http", "name": "$return"}

# function name -> (trigger binding without its parameter name, the other bindings exactly).
# docs/http-api.md; add a function here in the same change that adds it to function_app.py.
EXPECTED: dict[str, tuple[dict[str, Any], list[dict[str, Any]]]] = {
    "remediate": ({"type": "httpTrigger", "methods": ["POST"], "authLevel": "FUNCTION",
                   "route": "remediate"}, [HTTP_RETURN]),
    "remediations": ({"type": "httpTrigger", "methods": ["GET"], "authLevel": "FUNCTION",
                      "route": "remediations"}, [HTTP_RETURN]),
    "health": ({"type": "httpTrigger", "methods": ["GET"], "authLevel": "ANONYMOUS",
                "route": "health"}, [HTTP_RETURN]),
    "on_resource_event": ({"type": "eventGridTrigger"}, []),
    "process_work_item": ({"type": "queueTrigger", "queueName": WORK_QUEUE,
                           "connection": "AzureWebJobsStorage"}, []),
    "sweep": ({"type": "timerTrigger", "schedule": "%REMEDIATION_SWEEP_SCHEDULE%", "runOnStartup": False,
               "useMonitor": True}, []),
}


def run_indexer(function_app: Path) -> subprocess.CompletedProcess[str]:
    if not PYTHON313.exists():
        pytest.fail(
            f"{PYTHON313} is missing: the indexing tests need the Python 3.13 venv with "
            "azure-functions-runtime. Run `make deps` (or `make test`, which runs it)."
        )
    env = {**os.environ, **DUMMY_SETTINGS}
    env.pop("PYTHONPATH", None)  # .venv313 must see only its own packages and the app
    return subprocess.run(
        [str(PYTHON313), str(INDEXER), str(function_app)],
        capture_output=True, text=True, env=env, timeout=120, check=False,
    )


def index(function_app: Path) -> dict[str, dict[str, Any]]:
    result = run_indexer(function_app)
    assert result.returncode == 0, (
        f"indexing {function_app} failed (exit {result.returncode}):\n{result.stderr}"
    )
    functions = json.loads(result.stdout)
    return {f["name"]: f for f in functions}


def split_trigger(function: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    triggers = [b for b in function["raw_bindings"] if b["type"].endswith("Trigger")]
    assert len(triggers) == 1, f"{function['name']}: expected one trigger, got {triggers}"
    others = [b for b in function["raw_bindings"] if b is not triggers[0]]
    return triggers[0], others


# --- the repo's function_app.py -------------------------------------------------------------


@pytest.fixture(scope="module")
def indexed() -> dict[str, dict[str, Any]]:
    function_app = REPO / "function_app.py"
    if not function_app.exists():
        pytest.fail(f"{function_app} does not exist")
    return index(function_app)


def test_indexes_exactly_the_expected_functions(indexed: dict[str, dict[str, Any]]) -> None:
    assert set(indexed) == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_function_bindings(indexed: dict[str, dict[str, Any]], name: str) -> None:
    if name not in indexed:
        pytest.fail(f"{name} was not indexed; indexed: {sorted(indexed)}")
    function = indexed[name]
    expected_trigger, expected_others = EXPECTED[name]
    trigger, others = split_trigger(function)

    assert trigger["direction"] == "IN"
    assert {k: v for k, v in trigger.items() if k not in ("name", "direction")} == expected_trigger
    assert others == expected_others
    assert function["script_file"] == "function_app.py"
    assert function["entry_point"] == name
    # What the worker registers for the host: the same bindings, by parameter name.
    assert function["bindings"][trigger["name"]] == {
        "type": expected_trigger["type"], "direction": "in", "data_type": None,
    }
    assert set(function["bindings"]) == {b["name"] for b in function["raw_bindings"]}


# --- the harness itself, on throwaway apps ----------------------------------------------------


def write_app(directory: Path, body: str) -> Path:
    path = directory / "function_app.py"
    path.write_text(textwrap.dedent(body))
    return path


def test_harness_reports_bindings_of_a_small_app(tmp_path: Path) -> None:
    app = write_app(tmp_path, """
        import os
        import azure.functions as func
        import helper  # a sibling module, as remediation/ is for the real app

        assert os.environ["REMEDIATION_SCOPES"].startswith("/subscriptions/")
        print("printed at import time")  # must not spoil the JSON on stdout
        app = func.FunctionApp()

        @app.route(route="ping", methods=["GET"], auth_level=func.AuthLevel.ANONYMOUS)
        def ping(req: func.HttpRequest) -> func.HttpResponse:
            return func.HttpResponse(helper.WORD)

        @app.queue_trigger(arg_name="msg", queue_name="remediation-work",
                           connection="AzureWebJobsStorage")
        def work(msg: func.QueueMessage) -> None:
            pass
    """)
    (tmp_path / "helper.py").write_text("WORD = 'pong'\n")

    functions = index(app)

    assert set(functions) == {"ping", "work"}
    ping_trigger, ping_others = split_trigger(functions["ping"])
    assert ping_trigger == {"direction": "IN", "type": "httpTrigger", "name": "req",
                            "methods": ["GET"], "authLevel": "ANONYMOUS", "route": "ping"}
    assert ping_others == [HTTP_RETURN]
    assert functions["work"]["raw_bindings"] == [
        {"direction": "IN", "type": "queueTrigger", "name": "msg",
         "queueName": "remediation-work", "connection": "AzureWebJobsStorage"},
    ]
    assert functions["work"]["bindings"] == {
        "msg": {"type": "queueTrigger", "direction": "in", "data_type": None},
    }


def test_harness_fails_on_a_parameter_name_mismatch(tmp_path: Path) -> None:
    # azure-functions alone accepts this; the worker's Registry rejects it at indexing time.
    app = write_app(tmp_path, """
        import azure.functions as func
        app = func.FunctionApp()

        @app.timer_trigger(arg_name="timer", schedule="0 */30 * * * *")
        def sweep(mytimer: func.TimerRequest) -> None:
            pass
    """)

    result = run_indexer(app)

    assert result.returncode != 0
    assert "FunctionLoadError" in result.stderr
    assert "mytimer" in result.stderr
    assert result.stdout == ""


def test_harness_runs_on_python_313() -> None:
    if not PYTHON313.exists():
        pytest.fail(f"{PYTHON313} is missing: run `make deps`")
    out = subprocess.run(
        [str(PYTHON313), "-c", "import sys, azure.functions as f; "
         "print(sys.version_info[:2] >= (3, 13), f.__version__)"],
        capture_output=True, text=True, check=True,
    ).stdout.split()
    assert out[0] == "True", f"{PYTHON313} is not Python 3.13+"
