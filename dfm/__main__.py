"""``python -m dfm`` runs the CLI."""

from __future__ import annotations

import sys

from dfm.cli import main

sys.exit(main())
