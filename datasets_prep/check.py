#!/usr/bin/env python
"""Check a dataset before training on it: images, labels, class shares (JSON report).

The options are in ``--help``; the code is ``agmm_d2.data.checks.report``.
"""
import sys

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of
from agmm_d2.data.checks.report import main

if __name__ == "__main__":
    sys.exit(exit_status_of("check.py", main, sys.argv[1:], PREP_ERRORS))
