"""`python -m cli ...` runs the `vigia` command."""

import sys

from cli.main import main

sys.exit(main())
