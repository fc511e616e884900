"""Segment your own images with a trained model; write class-id PNGs and colour masks.

    python tools/predict.py --config-file configs/synthetic/demo.yaml \
        --input "photos/*.jpg" --output predictions/ \\
        MODEL.WEIGHTS output/synthetic/demo/model_final.pth
    python tools/predict.py --backend onnxruntime --model exported/model.onnx \
        --input photos/ --output predictions/

``--backend torch`` (the default) builds the model from ``--config-file`` and MODEL.WEIGHTS.
``--backend torchscript|onnxruntime`` runs a file written by tools/export_model.py (``--model``:
the file or its folder, with its ``.json`` beside it) without detectron2 or a config:
whole-image inference at the test size of the JSON, no test-time augmentation or sliding window.

``--input`` is a folder (searched recursively), a glob, or a file, and may be repeated. For each
image ``<rel>.<ext>`` it writes ``<output>/ids/<rel>.png`` (single-channel class ids 0..K-1) and
``<output>/color/<rel>.png`` (the classes in the ``stuff_colors`` of the config's datasets:
``--register`` runs your registration code first; without colours it stops); images that share a
name but not an extension keep it (``x.jpg.png``). A non-empty ``--output`` is refused unless
``--overwrite``. A file that is not a readable image is reported and skipped; the exit status is
then 1. The same from Python: ``agmm_d2.api.predict_folder`` and
``agmm_d2.predict.exported.predict_folder_exported``.
"""
from agmm_d2.cli.options import (
    add_config_arguments,
    add_output_argument,
    add_overwrite_argument,
    add_register_argument,
    exit_status_of,
    tool_parser,
)
from agmm_d2.utils.errors import InputError

BACKENDS = ("torch", "torchscript", "onnxruntime")


def argument_parser():
    parser = tool_parser(__doc__)
    parser.add_argument("--backend", choices=BACKENDS, default="torch",
                        help="torch: the detectron2 model (--config-file); torchscript or "
                             "onnxruntime: an exported model (--model)")
    parser.add_argument("--model", metavar="FILE|DIR",
                        help="exported model.ts / model.onnx or its folder (other backends)")
    parser.add_argument("--input", required=True, action="append",
                        help="image file, folder or glob (repeatable)")
    add_output_argument(parser, "folder for ids/ and color/")
    add_overwrite_argument(parser, "the files of the same name in a non-empty --output (without "
                                   "it, a non-empty --output is refused)")
    add_register_argument(parser, "; with --backend torch, so that the config's datasets give "
                                  "the colours")
    parser.add_argument("--batch-size", type=int, default=None,
                        help="images per forward pass, --backend torch (default: 8 on a GPU, "
                             "1 on the CPU)")
    add_config_arguments(parser, required=False, help="the config (--backend torch)")
    return parser


def run_torch(args):
    # Imported here: the exported backends run without detectron2.
    from agmm_d2.api import predict_folder
    from agmm_d2.engine import build_config, setup_console_logging

    if not args.config_file:
        raise InputError("--backend torch needs --config-file (or give --backend onnxruntime "
                         "or torchscript with --model)")
    setup_console_logging()
    cfg = build_config(args.config_file, args.opts)
    if not cfg.MODEL.WEIGHTS:
        raise InputError("MODEL.WEIGHTS is empty: give the trained model, e.g. "
                         "MODEL.WEIGHTS output/synthetic/demo/model_final.pth")
    return predict_folder(cfg, args.input, args.output, cfg.MODEL.WEIGHTS,
                          overwrite=args.overwrite, batch_size=args.batch_size,
                          register=args.register)


def run_exported(args):
    from agmm_d2.predict.exported import predict_folder_exported

    if not args.model:
        raise InputError(f"--backend {args.backend} needs --model (the file export_model.py "
                         "wrote, or its folder)")
    if args.opts or args.config_file or args.register:
        raise InputError(f"--backend {args.backend} takes no config (nor --register): the JSON "
                         "beside --model holds what it needs")
    return predict_folder_exported(args.model, args.input, args.output, args.backend,
                                   overwrite=args.overwrite)


def run(args) -> int:
    report = (run_torch if args.backend == "torch" else run_exported)(args)
    print(f"predict.py: wrote {len(report.written) // 2} predictions ({len(report.written)} files)"
          f" to {args.output}" + (f"; skipped {len(report.skipped)} unreadable files"
                                   if report.skipped else ""))
    return 1 if report.skipped else 0


def main(argv=None) -> int:
    # OSError covers agmm_d2.data's DatasetLayoutError without importing detectron2 here.
    return exit_status_of("predict.py", run, argument_parser().parse_args(argv),
                          (InputError, OSError))

