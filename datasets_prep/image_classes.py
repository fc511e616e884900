#!/usr/bin/env python
"""Write image_classes.json, the complete image-level labels, from dense labels or VOC XML.

The options are in ``--help``; the code is ``agmm_d2.cli.image_classes``
(installed as ``agmm-image-classes``).
"""
import sys

from agmm_d2.cli.image_classes import main

if __name__ == "__main__":
    sys.exit(main())
