#!/usr/bin/env python
"""Render the ScribbleSup VOC scribbles (one XML per image) into scribble label PNGs.

The options are in ``--help``; the code is ``agmm_d2.cli.voc_scribbles``
(installed as ``agmm-voc-scribbles``).
"""
import sys

from agmm_d2.cli.voc_scribbles import main

if __name__ == "__main__":
    sys.exit(main())
