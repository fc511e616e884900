#!/usr/bin/env python
"""Turn a LabelMe, CVAT or Label Studio export into sparse labels and check it registers.

The options are in ``--help``; the code is ``agmm_d2.cli.import_annotations``
(installed as ``agmm-import-annotations``).
"""
import sys

from agmm_d2.cli.import_annotations import main

if __name__ == "__main__":
    sys.exit(main())
