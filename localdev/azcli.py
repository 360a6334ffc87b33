"""The Azure CLI against the local ARM emulator, logged in by managed identity.

    python -m localdev.azcli login [--emulator https://127.0.0.1:8443] [--cert-dir .localdev/certs]
                                   [--as operator|app] [--config-dir DIR] [--wait SECONDS]

registers a cloud whose endpoints are all the emulator (`az cloud register … --skip-endpoint-discovery`),
makes it the active cloud and runs `az login --identity` against the emulator's token endpoint (App
Service style: IDENTITY_ENDPOINT + IDENTITY_HEADER), all in its own AZURE_CONFIG_DIR so the person's own
az configuration is never touched. It prints the `export` lines every later `az` command needs (the
token is fetched again by each command): eval them in the shell.

The identity is the emulator's operator identity by default (a person's rights, and writes the app
does not take for its own); `--as app` logs in as the function app's identity instead. What the
emulator serves is read from its loopback admin API (`/_emulator/identity`).
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

CLOUD = "LocalEmulator"
REPO = Path(__file__).resolve().parents[1]
DEFAULT_AZ = REPO / ".venv-azcli" / "bin" / "az"
# Settings that would send az elsewhere or change how it signs in; never passed on to it.
_FOREIGN = ("AZURE_CONFIG_DIR", "AZURE_CLIENT_ID", "AZURE_CLIENT_SECRET", "AZURE_TENANT_ID", "AZURE_USERNAME",
            "AZURE_PASSWORD", "AZURE_FEDERATED_TOKEN_FILE", "MSI_ENDPOINT", "MSI_SECRET", "IDENTITY_ENDPOINT",
            "IDENTITY_HEADER", "IDENTITY_SERVER_THUMBPRINT", "IMDS_ENDPOINT", "REQUESTS_CA_BUNDLE",
            "AZURE_DEFAULTS_GROUP", "AZURE_DEFAULTS_LOCATION", "AZURE_CORE_OUTPUT")


class AzError(Exception):
    """An `az` command exited non-zero; the message holds its stderr."""

    def __init__(self, args: list[str], returncode: int, stderr: str) -> None:
        super().__init__(f"az {' '.join(args)} exited {returncode}: {stderr.strip()}")
        self.returncode = returncode
        self.stderr = stderr


@dataclass
class AzCli:
    """Runs the real `az` with an environment that reaches only the emulator."""

    emulator_url: str
    ca_path: str
    identity_header: str
    config_dir: Path
    az: Path = DEFAULT_AZ
    timings: list[tuple[str, float]] = field(default_factory=list)   # (command, seconds), for reports

    @property
    def identity_endpoint(self) -> str:
        return f"{self.emulator_url}/msi/token"

    def env(self) -> dict[str, str]:
        """What az needs besides its own config dir: the emulator's CA, its token endpoint, quiet defaults."""
        return {"AZURE_CONFIG_DIR": str(self.config_dir), "REQUESTS_CA_BUNDLE": self.ca_path,
                "IDENTITY_ENDPOINT": self.identity_endpoint, "IDENTITY_HEADER": self.identity_header,
                "AZURE_CORE_COLLECT_TELEMETRY": "false", "AZURE_CORE_SURVEY_MESSAGE": "false",
                "AZURE_CORE_NO_COLOR": "true", "AZURE_CORE_DISABLE_CONFIRM_PROMPT": "true",
                "NO_PROXY": "127.0.0.1,localhost", "no_proxy": "127.0.0.1,localhost"}

    def _process_env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if k not in _FOREIGN}
        env.update(self.env())
        return env

    def run(self, *args: str, output: str = "json") -> Any:
        """Run `az <args>`; the parsed JSON it printed (None when it printed nothing), or raise AzError."""

        argv = [*args, "--only-show-errors"] + (["--output", output] if output else [])
        started = time.monotonic()
        done = subprocess.run([str(self.az), *argv], env=self._process_env(), capture_output=True, text=True,
                              timeout=300, stdin=subprocess.DEVNULL)
        self.timings.append((" ".join(args[:4]), time.monotonic() - started))
        if done.returncode != 0:
            raise AzError(list(args), done.returncode, done.stderr)
        text = done.stdout.strip()
        if output != "json":
            return text
        return json.loads(text) if text else None

    def login(self, client_id: str | None = None) -> dict[str, Any]:
        """Register the emulator as a cloud, make it active, and log in by managed identity."""
        url = self.emulator_url
        self.run("cloud", "register", "--name", CLOUD, "--endpoint-resource-manager", url,
                 "--endpoint-active-directory", url, "--endpoint-active-directory-resource-id", url,
                 "--endpoint-management", url, "--skip-endpoint-discovery", output="")
        self.run("cloud", "set", "--name", CLOUD, output="")
        login = ["login", "--identity"] + (["--client-id", client_id] if client_id else [])
        self.run(*login, output="")
        account: dict[str, Any] = self.run("account", "show")
        return account


def emulator_identity(url: str, ca_path: Path, wait_s: float = 30.0) -> dict[str, Any]:
    """What the emulator serves (identities, token endpoint header), from its loopback admin API; waits up to
    `wait_s` for an emulator just started in the background (its CA written, its port open)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            context = ssl.create_default_context(cafile=str(ca_path))
            with urllib.request.urlopen(f"{url}/_emulator/identity", context=context, timeout=10) as answer:
                identity: dict[str, Any] = json.loads(answer.read())
                return identity
        except OSError:   # no CA yet, the port not open yet (ssl and urllib errors are OSErrors too)
            if time.monotonic() >= deadline:
                raise
            time.sleep(0.2)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m localdev.azcli", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    login = commands.add_parser("login", help="log az in to a running emulator; prints the exports to eval")
    login.add_argument("--emulator", default="https://127.0.0.1:8443")
    login.add_argument("--as", dest="who", choices=("operator", "app"), default="operator")
    login.add_argument("--cert-dir", type=Path, default=Path(".localdev/certs"),
                       help="the emulator's --cert-dir (its CA is ca.pem there)")
    login.add_argument("--config-dir", type=Path, help="AZURE_CONFIG_DIR (default: a new temporary folder)")
    login.add_argument("--wait", type=float, default=30.0, metavar="SECONDS",
                       help="how long to wait for an emulator that is still starting (default 30)")
    login.add_argument("--az", type=Path,
                       default=DEFAULT_AZ if DEFAULT_AZ.exists() else Path(shutil.which("az") or "az"))
    args = parser.parse_args(argv)
    ca_path = (args.cert_dir / "ca.pem").resolve()
    try:
        served = emulator_identity(args.emulator, ca_path, args.wait)
    except OSError as error:
        print(f"no emulator answered at {args.emulator} within {args.wait:g} s (CA {ca_path}): {error}",
              file=sys.stderr)
        return 1
    config_dir = args.config_dir or Path(tempfile.mkdtemp(prefix="azcli-emulator-"))
    cli = AzCli(args.emulator, str(ca_path), served["identity_header"], config_dir, az=args.az)
    client_id = served["operator"]["client_id"] if args.who == "operator" else served["client_id"]
    try:
        account = cli.login(client_id)
    except AzError as error:
        print(error, file=sys.stderr)
        return 1
    for name, value in cli.env().items():
        print(f"export {name}={shlex.quote(value)}")
    print(f"# logged in to {args.emulator} as {args.who} ({account['user']['assignedIdentityInfo']}), "
          f"subscription {account['id']}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
