#!/usr/bin/env python
"""Make VOC 2012 ``train_aug``: SBD train+val and VOC train, minus VOC val (10,582 images).

The options are in ``--help``; the code is ``agmm_d2.data.public.voc_train_aug``.
"""
import sys

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of
from agmm_d2.data.public.voc_train_aug import main

if __name__ == "__main__":
    sys.exit(exit_status_of("voc_train_aug.py", main, sys.argv[1:], PREP_ERRORS))
