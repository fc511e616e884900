#!/usr/bin/env python
"""Write image_classes.json, the complete image-level labels, from dense labels or VOC XML.

The options are in ``--help``; the code is ``agmm_d2.data.sparse_labels.image_classes``.
"""
import sys

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of
from agmm_d2.data.sparse_labels.image_classes import main

if __name__ == "__main__":
    sys.exit(exit_status_of("image_classes.py", main, sys.argv[1:], PREP_ERRORS))
