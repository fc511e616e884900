#!/usr/bin/env python
"""Render the "What's the point" VOC clicks (JSON) into point label PNGs.

The options are in ``--help``; the code is ``agmm_d2.cli.voc_points``
(installed as ``agmm-voc-points``).
"""
import sys

from agmm_d2.cli.voc_points import main

if __name__ == "__main__":
    sys.exit(main())
