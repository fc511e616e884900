"""The command-line tools' entry functions (``tools/*.py`` and the ``agmm-*`` console scripts).

Each module holds one tool's argument parser and its ``main``/``cli``; the files under ``tools/``
only call them, so ``python tools/train_net.py ...`` and ``agmm-train ...`` are the same program.
"""
