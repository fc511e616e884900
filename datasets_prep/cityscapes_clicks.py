#!/usr/bin/env python
"""Cityscapes: gtFine train ids from label ids, and N random clicks per training image.

The options are in ``--help``; the code is ``agmm_d2.data.public.cityscapes``.
"""
import sys

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of
from agmm_d2.data.public.cityscapes import main

if __name__ == "__main__":
    sys.exit(exit_status_of("cityscapes_clicks.py", main, sys.argv[1:], PREP_ERRORS))
