#!/usr/bin/env python
"""Turn any folder of dense label PNGs into simulated scribbles.

The options are in ``--help``; the code is ``agmm_d2.cli.make_scribbles``
(installed as ``agmm-make-scribbles``).
"""
import sys

from agmm_d2.cli.make_scribbles import main

if __name__ == "__main__":
    sys.exit(main())
