#!/usr/bin/env python
"""Make VOC 2012 train_aug: SBD train+val and VOC train, minus VOC val (10,582 images).

The options are in ``--help``; the code is ``agmm_d2.cli.voc_train_aug``
(installed as ``agmm-voc-train-aug``).
"""
import sys

from agmm_d2.cli.voc_train_aug import main

if __name__ == "__main__":
    sys.exit(main())
