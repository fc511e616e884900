"""Every command of agmm_d2: one module per tool, named like its script, with the tool's
argument parser and its ``main(argv=None) -> exit status``; ``options.py`` defines the options
several tools share. The scripts in ``tools/`` and ``datasets_prep/`` and the ``agmm-*`` console
scripts only call ``main``, so ``python tools/train_net.py ...`` and ``agmm-train ...`` are the
same program.
"""
