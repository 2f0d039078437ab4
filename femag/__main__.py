"""``python -m femag run problem.toml``: the same as the ``femag`` command (femag/cli.py)."""
import sys

from .cli import main

sys.exit(main())
