"""Export a trained model to TorchScript or ONNX, with a JSON that makes the file usable alone.

    python tools/export_model.py --config-file configs/synthetic/demo.yaml --format onnx \\
        --output exported/ MODEL.WEIGHTS output/synthetic/demo/model_final.pth
    python tools/predict.py --backend onnxruntime --model exported/model.onnx \\
        --input photos/ --output predictions/

Writes ``<output>/model.onnx`` (or ``model.ts``) and ``<output>/model.onnx.json``
(``model.ts.json``). The graph takes a (1, 3, H, W) uint8 image in the config's INPUT.FORMAT,
any H and W, and returns (1, K, H, W) class probabilities (ids = argmax over dim 1);
normalization and padding are inside it. The JSON holds the class names and colours, input
format, pixel mean and std, test size, K, opset and torch version. Test-time augmentation and
the sliding window are not exported. ``--export-method tracing`` (the default) is the one that
works for the DeepLab ResNet backbone; ``scripting`` is refused with the reason. The ONNX format
needs ``pip install -e ".[export]"``. More in docs/deploy.md. The same from Python:
``agmm_d2.export.export_model``.
"""
import sys

from agmm_d2.cli.options import (
    add_config_arguments,
    add_output_argument,
    exit_status_of,
    tool_parser,
)
from agmm_d2.engine import build_config
from agmm_d2.export import EXPORT_METHODS, FORMATS, export_model, options_left_out
from agmm_d2.utils.errors import InputError


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--format", required=True, choices=tuple(FORMATS))
    parser.add_argument("--export-method", default="tracing", choices=EXPORT_METHODS)
    add_output_argument(parser, "folder for model.ts / model.onnx and its .json")
    add_config_arguments(parser)
    return parser


def run(args) -> int:
    cfg = build_config(args.config_file, args.opts)
    if not cfg.MODEL.WEIGHTS:
        raise InputError("MODEL.WEIGHTS is empty: give the trained model, e.g. "
                         "MODEL.WEIGHTS output/synthetic/demo/model_final.pth")
    for option in options_left_out(cfg):
        print(f"export_model.py: warning: {option} is not exported; the exported model does "
              "whole-image inference", file=sys.stderr)
    path = export_model(cfg, args.format, args.export_method, args.output)
    print(f"export_model.py: wrote {path} and its {path.name}.json")
    return 0


def main(argv=None) -> int:
    return exit_status_of("export_model.py", run, argument_parser().parse_args(argv),
                          (InputError, OSError))
