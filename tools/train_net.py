#!/usr/bin/env python
"""Train and evaluate AGMM DeepLabV3+ with detectron2.

The options are in ``--help``; the code is ``agmm_d2.cli.train_net`` (installed as ``agmm-train``).
"""
import sys

from agmm_d2.cli.train_net import main

if __name__ == "__main__":
    sys.exit(main())
