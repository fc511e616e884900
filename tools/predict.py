#!/usr/bin/env python
"""Segment your own images with a trained model; write class-id PNGs and colour masks.

    python tools/predict.py --config-file configs/synthetic_demo.yaml \
        --input "photos/*.jpg" --output predictions/ MODEL.WEIGHTS output/synthetic_demo/model_final.pth

``--input`` is a folder (searched recursively), a glob, or a file, and may be repeated. For each
image ``<rel>.<ext>`` it writes ``<output>/ids/<rel>.png`` (single-channel class ids 0..K-1) and
``<output>/color/<rel>.png`` (the classes in the ``stuff_colors`` of the config's datasets:
``--register`` runs your registration code first; without colours it stops); images that share a
name but not an extension keep it (``x.jpg.png``). A non-empty ``--output`` is refused unless
``--overwrite``. A file that is not a readable image is reported and skipped; the exit status is
then 1. The same from Python: ``agmm_d2.engine.predict_folder``.
"""
import argparse
import sys

from agmm_d2.data import DatasetLayoutError  # isort: skip
from agmm_d2.engine import InputError, build_config, predict_folder, setup_console_logging
from agmm_d2.utils.cli import exit_status_of


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--config-file", required=True, metavar="FILE")
    parser.add_argument("--input", required=True, action="append",
                        help="image file, folder or glob (repeatable)")
    parser.add_argument("--output", required=True, help="folder for ids/ and color/")
    parser.add_argument("--overwrite", action="store_true",
                        help="write into a non-empty --output (files of the same name are replaced)")
    parser.add_argument("--register", action="append", default=[], metavar="FILE.py|MODULE",
                        help="dataset registration code to run first, so that the config's "
                             "datasets give the colours (repeatable)")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per forward pass (default: 8 on a GPU, 1 on the CPU)")
    parser.add_argument("opts", nargs=argparse.REMAINDER, default=[],
                        help="config overrides, e.g. MODEL.WEIGHTS path/model_final.pth")
    return parser.parse_args(argv)


def run(args) -> int:
    setup_console_logging()
    cfg = build_config(args.config_file, args.opts)
    if not cfg.MODEL.WEIGHTS:
        raise InputError("MODEL.WEIGHTS is empty: give the trained model, e.g. "
                         "MODEL.WEIGHTS output/synthetic_demo/model_final.pth")
    report = predict_folder(cfg, args.input, args.output, cfg.MODEL.WEIGHTS,
                            overwrite=args.overwrite, batch_size=args.batch_size,
                            register=args.register)
    print(f"predict.py: wrote {len(report.written) // 2} predictions ({len(report.written)} files)"
          f" to {args.output}" + (f"; skipped {len(report.skipped)} unreadable files"
                                   if report.skipped else ""))
    return 1 if report.skipped else 0


def main(argv=None) -> int:
    return exit_status_of("predict.py", run, parse_args(argv), (InputError, DatasetLayoutError))


if __name__ == "__main__":
    sys.exit(main())
