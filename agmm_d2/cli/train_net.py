"""Train and evaluate AGMM DeepLabV3+ with detectron2.

    python tools/train_net.py --config-file configs/synthetic/demo.yaml
    python tools/train_net.py --config-file configs/voc/scribbles_released.yaml --num-gpus 4
    python tools/train_net.py --config-file configs/voc/scribbles_released.yaml --eval-only \
        MODEL.WEIGHTS output/voc/scribbles_released/model_final.pth
    python tools/train_net.py --config-file configs/cityscapes/50clicks_released.yaml --num-gpus 8 \
        --num-machines 2 --machine-rank 0 --dist-url tcp://HOST:PORT
    python tools/train_net.py --config-file configs/synthetic/20clicks_released.yaml \
        --register my_datasets.py DATASETS.TRAIN "('my_train',)" DATASETS.TEST "('my_val',)"

``--num-gpus N`` starts N processes per machine (NCCL on GPUs; on a machine without CUDA,
gloo on the CPU with plain BatchNorm). ``--register`` runs your registration code (a ``.py`` file
or a module) in every process before the config is used. Before any process starts, the inputs
are checked and the datasets' files scanned (``--skip-data-check`` skips the scan); a problem
stops the run with exit status 2. ``--slurm`` submits the same run to a Slurm cluster
(docs/slurm.md). Everything else is in agmm_d2.engine.
"""
import argparse
import sys

from detectron2.engine import default_argument_parser, launch

from agmm_d2.cli.options import add_overwrite_argument, add_register_argument
from agmm_d2.data import DatasetLayoutError
from agmm_d2.data.checks import check_data
from agmm_d2.engine import (
    build_config,
    check_inputs,
    leave_worker_process,
    run_registrations,
    setup_run,
    train_or_evaluate,
)
from agmm_d2.engine.slurm import submit_training
from agmm_d2.utils.atomic import terminate_cleanly
from agmm_d2.utils.errors import InputError


def argument_parser():
    parser = default_argument_parser(__doc__)
    add_register_argument(parser, ", before the config is used")
    parser.add_argument("--skip-data-check", action="store_true",
                        help="do not scan the datasets' files before the run (they are scanned "
                             "by default; the result is cached per file)")
    add_overwrite_argument(parser, "the checkpoints of an earlier run in OUTPUT_DIR (without it, "
                                   "such an OUTPUT_DIR needs --resume)")
    return add_slurm_arguments(parser)


def add_slurm_arguments(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """The ``--slurm*`` options (``agmm_d2.engine.slurm`` reads them)."""
    group = parser.add_argument_group("Slurm (submitit)")
    group.add_argument("--slurm", action="store_true",
                       help="submit the run to Slurm instead of running it here; --num-gpus "
                            "is then the GPUs per node")
    group.add_argument("--slurm-local", action="store_true",
                       help="with --slurm: run the job with submitit's local executor on this "
                            "machine (a dry run of the submission, requeueing included)")
    group.add_argument("--slurm-partition", default=None)
    group.add_argument("--slurm-nodes", type=int, default=1)
    group.add_argument("--slurm-timeout-min", type=int, default=60 * 24,
                       help="wall time of one allocation; the job is requeued when it runs out")
    group.add_argument("--slurm-cpus-per-gpu", type=int, default=8)
    group.add_argument("--slurm-mem-gb", type=int, default=None, help="memory per node")
    group.add_argument("--slurm-job-dir", default="output/slurm/%j",
                       help="submitit's folder for the job's logs and pickles (%%j: job id)")
    group.add_argument("--slurm-max-requeues", type=int, default=10,
                       help="how often a preempted or timed-out job is requeued")
    return parser


def run(args):
    """One process of the run (``launch`` starts it once per GPU, or calls it here)."""
    run_registrations(args.register)
    cfg = setup_run(build_config(args.config_file, args.opts), args)
    result = train_or_evaluate(cfg, eval_only=args.eval_only, resume=args.resume)
    leave_worker_process()  # only after success: an error propagates with its traceback
    return result


def main(argv=None) -> int:
    """Parse ``argv``, check the inputs, then ``run`` in 1 or more processes; returns the
    exit status (2 with one message on bad input)."""
    args = argument_parser().parse_args(argv)
    try:
        with terminate_cleanly():  # SIGTERM: unfinished writes leave no temporary file
            run_registrations(args.register)
            cfg = build_config(args.config_file, args.opts)
            notes = check_inputs(cfg, eval_only=args.eval_only, resume=args.resume,
                                 num_processes=args.num_gpus * args.num_machines,
                                 overwrite=args.overwrite)
            if not args.skip_data_check:
                notes += check_data(cfg, eval_only=args.eval_only)
            for note in notes:
                print(f"train_net.py: warning: {note}", file=sys.stderr)
            if args.slurm:
                job = submit_training(run, args)
                print(f"train_net.py: submitted job {job.job_id}; its log: {job.paths.stdout}")
                return 0
            launch(run, args.num_gpus, num_machines=args.num_machines,
                   machine_rank=args.machine_rank, dist_url=args.dist_url, args=(args,))
    except (InputError, DatasetLayoutError) as e:
        print(f"train_net.py: error: {e}", file=sys.stderr)
        return 2
    return 0

