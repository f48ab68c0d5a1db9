"""``python -m webhook ARGS`` runs the ``bulkhead`` command (where its script is not on PATH)."""

import sys

from webhook import cli

sys.exit(cli.main())
