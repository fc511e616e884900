#!/usr/bin/env python
"""Check a dataset before training on it: images, labels, class shares (JSON report).

The options are in ``--help``; the code is ``agmm_d2.cli.check_dataset``
(installed as ``agmm-check-dataset``).
"""
import sys

from agmm_d2.cli.check_dataset import main

if __name__ == "__main__":
    sys.exit(main())
