"""`python -m generator` is the same as the `kb` command."""

from __future__ import annotations

import os
import sys

# `python -m` puts the working directory first on sys.path, and the working directory is usually the
# project, whose tree a pull request controls: a `.py` file there must never be importable by a name
# a card gives. The `kb` console script has its own folder there instead; make both the same.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from generator.cli import main  # after the sys.path fix above, on purpose

if __name__ == "__main__":
    sys.exit(main())
