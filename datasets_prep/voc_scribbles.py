#!/usr/bin/env python
"""Render the ScribbleSup VOC scribbles (one XML per image) into scribble label PNGs.

The options are in ``--help``; the code is ``agmm_d2.data.public.voc_scribbles``.
"""
import sys

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of
from agmm_d2.data.public.voc_scribbles import main

if __name__ == "__main__":
    sys.exit(exit_status_of("voc_scribbles.py", main, sys.argv[1:], PREP_ERRORS))
