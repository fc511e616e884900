#!/usr/bin/env python
"""Throughput of predict.py's backends on the CPU, one thread: torch, torchscript, onnxruntime.

    python benchmarks/predict_backends.py --config-file configs/synthetic_demo.yaml
    python benchmarks/predict_backends.py --config-file configs/synthetic_demo.yaml \
        --size 256 256 --runs 7 MODEL.WEIGHTS output/synthetic_demo/model_final.pth

Exports the model of the config (MODEL.WEIGHTS, or its initial weights when empty: speed does
not depend on their values) to TorchScript and ONNX in a temporary folder, then predicts
--images random images of --size with each backend, one image at a time, in --runs runs
interleaved across backends (images to class ids, file reading and writing excluded). Prints the
median images per second and the ratio to torch, all from this one invocation.
"""
import sys

from agmm_d2.benchmarking.predict_backends import format_table, measure
from agmm_d2.cli.options import tool_parser
from agmm_d2.engine import build_config


def main(argv=None) -> int:
    parser = tool_parser(__doc__)
    parser.add_argument("--config-file", required=True, metavar="FILE")
    parser.add_argument("--size", type=int, nargs=2, default=(128, 128), metavar=("H", "W"))
    parser.add_argument("--images", type=int, default=20)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("opts", nargs="...", default=[])
    args = parser.parse_args(argv)
    cfg = build_config(args.config_file, args.opts)
    rates = measure(cfg, *args.size, args.images, args.runs)
    print(format_table(rates, *args.size))
    return 0


if __name__ == "__main__":
    sys.exit(main())
