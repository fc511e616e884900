#!/usr/bin/env python
"""Turn any folder of dense label PNGs into a sparse benchmark of random clicks.

The options are in ``--help``; the code is ``agmm_d2.cli.make_clicks``
(installed as ``agmm-make-clicks``).
"""
import sys

from agmm_d2.cli.make_clicks import main

if __name__ == "__main__":
    sys.exit(main())
