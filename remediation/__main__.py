"""`python -m remediation`: the operator command (runtime/cli.py)."""

import sys

from remediation.runtime.cli import main

sys.exit(main())
