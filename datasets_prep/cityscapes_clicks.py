#!/usr/bin/env python
"""Cityscapes: gtFine train ids from label ids, and N random clicks per training image.

The options are in ``--help``; the code is ``agmm_d2.cli.cityscapes_clicks``
(installed as ``agmm-cityscapes-clicks``).
"""
import sys

from agmm_d2.cli.cityscapes_clicks import main

if __name__ == "__main__":
    sys.exit(main())
