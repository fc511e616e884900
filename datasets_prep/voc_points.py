#!/usr/bin/env python
"""Render the "What's the point" VOC clicks (JSON) into point label PNGs.

The options are in ``--help``; the code is ``agmm_d2.data.public.voc_points``.
"""
import sys

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of
from agmm_d2.data.public.voc_points import main

if __name__ == "__main__":
    sys.exit(exit_status_of("voc_points.py", main, sys.argv[1:], PREP_ERRORS))
