"""Run a command-line Python program unchanged and note its own peak memory when it exits.

    python bench/peak.py REPORT -m remediation scan --json
    python bench/peak.py REPORT path/to/script.py args...

The program runs through runpy, exactly as `python -m module` or `python script.py` would run it; at exit
its process's high-water mark (VmHWM) is written to REPORT as MiB. The kernel's high-water mark of this
process image is used, not the parent's ru_maxrss for children: that would also count the memory of a
parent holding a large estate at fork time. Standard library only (it runs in any virtualenv).
"""
from __future__ import annotations

import atexit
import runpy
import sys


def peak_mib() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def main() -> None:
    report, rest = sys.argv[1], sys.argv[2:]
    atexit.register(lambda: open(report, "w").write(f"{peak_mib():.1f}\n"))
    if rest[:1] == ["-m"]:
        sys.argv = [rest[1], *rest[2:]]
        sys.path[0] = __import__("os").getcwd()  # as `python -m` puts the working directory first
        runpy.run_module(rest[1], run_name="__main__", alter_sys=True)
    else:
        sys.argv = rest
        sys.path[0] = str(__import__("pathlib").Path(rest[0]).resolve().parent)
        runpy.run_path(rest[0], run_name="__main__")


if __name__ == "__main__":
    main()
