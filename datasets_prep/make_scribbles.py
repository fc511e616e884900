#!/usr/bin/env python
"""Turn any folder of dense label PNGs into simulated scribbles.

The options are in ``--help``; the code is ``agmm_d2.cli.make_scribbles``.
"""
import sys

from agmm_d2.cli.make_scribbles import main
from agmm_d2.cli.options import PREP_ERRORS, exit_status_of

if __name__ == "__main__":
    sys.exit(exit_status_of("make_scribbles.py", main, sys.argv[1:], PREP_ERRORS))
