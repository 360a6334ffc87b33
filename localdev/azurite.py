"""Azurite (the Azure Storage emulator) as a child process, for tests and the local stack.

    with Azurite(tmp_path / "azurite") as azurite:
        TableServiceClient.from_connection_string(azurite.connection_string)

Ports left at 0 are picked free on loopback, so several instances can run side by side.
The npm package lives in localdev/node_modules (``make deps``).

The command line starts or stops one instance beside ``func start``:

    python -m localdev.azurite start --location .localdev/azurite --pidfile .localdev/azurite.pid
    python -m localdev.azurite stop --pidfile .localdev/azurite.pid
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

LOCALDEV_DIR = Path(__file__).resolve().parent
AZURITE_BIN = LOCALDEV_DIR / "node_modules" / ".bin" / "azurite"

# The well-known development account; see "Use the Azurite emulator" in the Azure Storage docs.
ACCOUNT_NAME = "devstoreaccount1"
ACCOUNT_KEY = (
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="
)
DEFAULT_PORTS = (10000, 10001, 10002)
LOG_NAME = "azurite.log"


class AzuriteError(RuntimeError):
    """Azurite could not be started or stopped."""


def free_port(host: str = "127.0.0.1") -> int:
    """A port that was free a moment ago (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int, timeout: float = 0.2) -> bool:
    """True when something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False


def connection_string(host: str, blob_port: int, queue_port: int, table_port: int) -> str:
    """The explicit devstoreaccount1 connection string for Azurite on these ports."""
    base = f"http://{host}:{{port}}/{ACCOUNT_NAME}"
    return (
        "DefaultEndpointsProtocol=http;"
        f"AccountName={ACCOUNT_NAME};"
        f"AccountKey={ACCOUNT_KEY};"
        f"BlobEndpoint={base.format(port=blob_port)};"
        f"QueueEndpoint={base.format(port=queue_port)};"
        f"TableEndpoint={base.format(port=table_port)};"
    )


def _log_tail(path: Path, lines: int = 20) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return "(no log)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join(tail) if tail else "(log is empty)"


class Azurite:
    """One Azurite process serving blob, queue and table on loopback."""

    def __init__(
        self,
        location: Path,
        host: str = "127.0.0.1",
        blob_port: int = 0,
        queue_port: int = 0,
        table_port: int = 0,
    ) -> None:
        self.location = Path(location)
        self.host = host
        self._requested = (blob_port, queue_port, table_port)
        self.blob_port, self.queue_port, self.table_port = self._requested
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def log_path(self) -> Path:
        return self.location / LOG_NAME

    @property
    def ports(self) -> tuple[int, int, int]:
        return (self.blob_port, self.queue_port, self.table_port)

    @property
    def connection_string(self) -> str:
        if 0 in self.ports:
            raise AzuriteError("Azurite ports are not known until start() has run")
        return connection_string(self.host, *self.ports)

    def command(self) -> list[str]:
        return [
            str(AZURITE_BIN),
            "--silent",
            "--disableTelemetry",
            # The storage SDKs send an x-ms-version newer than Azurite 3.35 knows.
            "--skipApiVersionCheck",
            "--location", str(self.location),
            "--blobHost", self.host, "--blobPort", str(self.blob_port),
            "--queueHost", self.host, "--queuePort", str(self.queue_port),
            "--tableHost", self.host, "--tablePort", str(self.table_port),
        ]

    def start(self, timeout: float = 30) -> Azurite:
        """Start Azurite and wait until all three ports accept connections."""
        if self.process is not None and self.process.poll() is None:
            raise AzuriteError(f"Azurite is already running (pid {self.process.pid})")
        if not AZURITE_BIN.exists():
            raise AzuriteError(
                f"{AZURITE_BIN} not found: install the local stack's Node tools with "
                "`make deps` (or `npm ci --prefix localdev`)"
            )
        self.location.mkdir(parents=True, exist_ok=True)
        # Ports we pick ourselves can be taken by someone else before Azurite binds them;
        # then try again with new ones. Fixed ports get one attempt.
        attempts = 3 if 0 in self._requested else 1
        for attempt in range(1, attempts + 1):
            self.blob_port, self.queue_port, self.table_port = (
                port or free_port(self.host) for port in self._requested
            )
            try:
                self._spawn_and_wait(timeout)
                return self
            except AzuriteError as exc:
                if attempt == attempts or "EADDRINUSE" not in str(exc):
                    raise
        raise AssertionError("unreachable")

    def _spawn_and_wait(self, timeout: float) -> None:
        busy = [port for port in self.ports if port_open(self.host, port)]
        if busy:
            raise AzuriteError(
                f"cannot start Azurite: {self.host} port(s) {busy} already in use "
                "(EADDRINUSE)"
            )
        with open(self.log_path, "ab") as log:
            self.process = subprocess.Popen(
                self.command(),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # own process group, so stop() reaches node's children
            )
        deadline = time.monotonic() + timeout
        while True:
            code = self.process.poll()
            if code is not None:
                self.process = None
                raise AzuriteError(
                    f"Azurite exited with code {code} during start-up; "
                    f"{self.log_path} ends with:\n{_log_tail(self.log_path)}"
                )
            if all(port_open(self.host, port) for port in self.ports):
                return
            if time.monotonic() > deadline:
                self.stop()
                raise AzuriteError(
                    f"Azurite did not open ports {list(self.ports)} within {timeout:g} s; "
                    f"{self.log_path} ends with:\n{_log_tail(self.log_path)}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 10) -> None:
        """Stop Azurite (its whole process group) and wait for it to exit."""
        process, self.process = self.process, None
        if process is None:
            return
        _kill_group(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            _kill_group(process.pid, signal.SIGKILL)
            process.wait(timeout)

    def __enter__(self) -> Azurite:
        if self.process is None:
            self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _kill_group(pid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pid, sig)  # the child leads its own session, so pgid == pid
    except ProcessLookupError:
        pass


# --- command line -------------------------------------------------------------------------


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_azurite(pid: int) -> bool:
    """The pid is alive and (where /proc tells) still an Azurite process, not a reused pid."""
    if not _pid_alive(pid):
        return False
    try:
        return b"azurite" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (macOS): trust the pidfile


def _cli_start(args: argparse.Namespace) -> int:
    pidfile = Path(args.pidfile)
    if pidfile.exists():
        pid = int(pidfile.read_text().split()[0])
        if _is_azurite(pid):
            print(f"Azurite already running (pid {pid}, {pidfile})", file=sys.stderr)
            return 1
        pidfile.unlink()
    ports = DEFAULT_PORTS if args.default_ports else (0, 0, 0)
    azurite = Azurite(Path(args.location), args.host, *ports).start(args.timeout)
    assert azurite.process is not None
    # The process outlives this command; `stop --pidfile` ends it.
    pidfile.parent.mkdir(parents=True, exist_ok=True)
    pidfile.write_text(f"{azurite.process.pid}\n")
    print(f"AzureWebJobsStorage={azurite.connection_string}")
    note = " (UseDevelopmentStorage=true works too)" if args.default_ports else ""
    print(f"Azurite pid {azurite.process.pid}, log {azurite.log_path}{note}", file=sys.stderr)
    return 0


def _cli_stop(args: argparse.Namespace) -> int:
    pidfile = Path(args.pidfile)
    if not pidfile.exists():
        print(f"no pidfile {pidfile}: Azurite is not running", file=sys.stderr)
        return 0
    pid = int(pidfile.read_text().split()[0])
    if not _is_azurite(pid):
        print(f"pid {pid} from {pidfile} is not Azurite any more; removing the pidfile",
              file=sys.stderr)
        pidfile.unlink()
        return 0
    _kill_group(pid, signal.SIGTERM)
    deadline = time.monotonic() + args.timeout
    while _pid_alive(pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    if _pid_alive(pid):
        _kill_group(pid, signal.SIGKILL)
    pidfile.unlink()
    print(f"stopped Azurite (pid {pid})", file=sys.stderr)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.azurite", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start Azurite in the background")
    start.add_argument("--location", default=".localdev/azurite", help="data directory (and log)")
    start.add_argument("--pidfile", default=".localdev/azurite.pid")
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument(
        "--default-ports", action="store_true",
        help="use 10000-10002 (what UseDevelopmentStorage=true expects) instead of free ports",
    )
    start.add_argument("--timeout", type=float, default=30)
    start.set_defaults(run=_cli_start)
    stop = sub.add_parser("stop", help="stop the Azurite started with the same --pidfile")
    stop.add_argument("--pidfile", default=".localdev/azurite.pid")
    stop.add_argument("--timeout", type=float, default=10)
    stop.set_defaults(run=_cli_stop)
    args = parser.parse_args(argv)
    try:
        return int(args.run(args))
    except AzuriteError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
