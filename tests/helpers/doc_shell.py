"""A documented procedure's shell blocks, run as a person runs them: one bash, block after block.

`doc_blocks(path, heading)` takes the ```bash blocks of one section of a Markdown file, in order. `DocShell`
runs them in one long-lived bash (exports, variables and background jobs carry from block to block, as in a
terminal), in a network namespace of its own (`unshare --net`, loopback only): the documented ports are free
there whatever else runs on the machine, and nothing beyond loopback is reachable. Each block is sourced from a
file with stdin from /dev/null; an ERR trap collects every command that failed, as a person would see it fail.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path


def doc_blocks(path: Path, heading: str) -> list[str]:
    """The ```bash blocks under `heading` (up to the next heading of its level or higher), in order."""
    text = path.read_text()
    start = text.index(heading)
    level = len(heading) - len(heading.lstrip("#"))
    rest = text[start + len(heading):]
    end = re.search(rf"^#{{1,{level}}} ", rest, re.MULTILINE)
    return re.findall(r"^```bash\n(.*?)^```", rest[: end.start() if end else None], re.MULTILINE | re.DOTALL)


@dataclass
class Step:
    script: str
    status: int
    output: str
    failed: list[str] = field(default_factory=list)   # the commands that failed, as the ERR trap saw them

    def lines(self) -> list[str]:
        return [line for line in self.output.splitlines() if line.strip()]


class DocShell:
    """One bash in a network namespace of its own, fed block after block; everything it prints goes to `log`."""

    def __init__(self, cwd: Path, env: dict[str, str], workdir: Path) -> None:
        if shutil.which("unshare") is None or shutil.which("ip") is None:
            raise RuntimeError("the walkthrough needs unshare (util-linux) and ip (iproute2)")
        self.workdir = workdir
        self.log = workdir / "shell.log"
        self._out = self.log.open("w")
        namespace = ["unshare", "--net"] + ([] if os.geteuid() == 0 else ["--map-root-user"])
        self.proc = subprocess.Popen([*namespace, "bash", "--noprofile", "--norc"], stdin=subprocess.PIPE,
                                     stdout=self._out, stderr=subprocess.STDOUT, cwd=cwd, env=env, text=True,
                                     start_new_session=True)
        self._offset = 0
        self._count = 0
        ready = self.run("ip link set lo up")
        if ready.status != 0:
            raise RuntimeError(f"no loopback in the shell's network namespace: {ready.output}")

    def run(self, script: str, timeout: float = 180) -> Step:
        self._count += 1
        path = self.workdir / f"block-{self._count}.sh"
        path.write_text(script if script.endswith("\n") else script + "\n")
        token = uuid.uuid4().hex
        assert self.proc.stdin is not None
        self.proc.stdin.write(
            "set -o errtrace; __failed=(); trap '__failed+=(\"$BASH_COMMAND\")' ERR\n"
            f"source {path} </dev/null; __status=$?; trap - ERR\n"
            f'for __c in "${{__failed[@]}}"; do echo "::failed-{token}:: $__c"; done\n'
            f'echo "::done-{token}:: $__status"\n')
        self.proc.stdin.flush()
        deadline = time.monotonic() + timeout
        marker = re.compile(rf"^::done-{token}:: (\d+)$", re.MULTILINE)
        while True:
            text = self.log.read_text(errors="replace")[self._offset:]
            found = marker.search(text)
            if found:
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the shell did not finish the block in {timeout:g} s:\n{script}\n"
                                   f"--- output:\n{text}")
            time.sleep(0.1)
        self._offset += found.end()
        body = text[: found.start()]
        failed = re.findall(rf"^::failed-{token}:: (.*)$", body, re.MULTILINE)
        output = re.sub(rf"^::failed-{token}:: .*\n", "", body, flags=re.MULTILINE)
        return Step(script, int(found.group(1)), output, failed)

    def close(self) -> None:
        """End the shell and whatever it left running (its own process group, started here)."""
        try:
            if self.proc.poll() is None and self.proc.stdin is not None:
                self.proc.stdin.write("kill $(jobs -p) 2>/dev/null; exit\n")
                self.proc.stdin.close()
                self.proc.wait(timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            pass
        finally:
            try:
                os.killpg(self.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=10)
            self._out.close()
