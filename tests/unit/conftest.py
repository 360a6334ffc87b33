"""Unit tests: pure code only (no emulator, no Azurite). Makes the shared builders in arm_shapes.py importable
whatever pytest import mode is configured."""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = str(Path(__file__).resolve().parent)
if _HERE not in sys.path:
    sys.path.insert(0, _HERE)
