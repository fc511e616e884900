"""What the command-line tools share: their argument parser, the options several of them take
(each defined here once), and their exit status."""
import argparse
import sys
from pathlib import Path
from typing import Callable, Optional, Tuple, Type

from ..config_renames import upgrade_dataset_name
from ..utils.atomic import terminate_cleanly

__all__ = ["PREP_ERRORS", "add_config_arguments", "add_output_argument", "add_overwrite_argument",
           "add_register_argument", "add_worker_argument", "exit_status_of", "overrides_of",
           "sparse_label_tool_parser", "tool_parser", "upgraded_dataset"]


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of a tool's docstring and
    whose epilog is the rest, shown as written."""
    first, _, rest = doc.partition("\n\n")
    return argparse.ArgumentParser(description=first, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


def add_config_arguments(parser: argparse.ArgumentParser, *, required: bool = True,
                         flag: str = "--config-file", default: Optional[str] = None,
                         help: str = "the config file") -> None:
    """The config file (``flag``) and, after every other argument, its ``KEY VALUE`` overrides
    (``opts``), as detectron2's own tools take them."""
    parser.add_argument(flag, required=required and default is None, default=default,
                        metavar="FILE", help=help)
    parser.add_argument("opts", nargs=argparse.REMAINDER, default=[], metavar="KEY VALUE",
                        help="config overrides, e.g. MODEL.WEIGHTS path/model_final.pth")


def overrides_of(args) -> list:
    """``args.opts`` without a leading "--" (how the overrides are told apart from a preceding
    option that takes several values, e.g. ``--seeds 0 1 -- SOLVER.MAX_ITER 400``)."""
    return args.opts[1:] if args.opts[:1] == ["--"] else list(args.opts)


def upgraded_dataset(prog: str, name: Optional[str]) -> Optional[str]:
    """A dataset name given on the command line, a renamed built-in name replaced by its new one
    (``agmm_d2.config_renames``) with a one-line note on stderr."""
    if name is None:
        return None
    new, note = upgrade_dataset_name(name)
    if note:
        print(f"{prog}: warning: {note}", file=sys.stderr)
    return new


def add_register_argument(parser: argparse.ArgumentParser, note: str = "") -> None:
    """``--register FILE.py|MODULE`` (repeatable): the user's dataset registration code."""
    parser.add_argument("--register", action="append", default=[], metavar="FILE.py|MODULE",
                        help="dataset registration code (a .py file or a module) to run first, "
                             f"in every process of the run (repeatable){note}")


def add_overwrite_argument(parser: argparse.ArgumentParser, what: str) -> None:
    """``--overwrite``: replace ``what`` (without it, an existing output is an error)."""
    parser.add_argument("--overwrite", action="store_true", help=f"replace {what}")


def add_output_argument(parser: argparse.ArgumentParser, help: str, *, default=None,
                        required: Optional[bool] = None, type=None,
                        metavar: str = "DIR") -> None:
    """``--output``: where the tool writes (required unless it has a default)."""
    parser.add_argument("--output", default=default, type=type, metavar=metavar, help=help,
                        required=default is None if required is None else required)


def add_worker_argument(parser: argparse.ArgumentParser, *metavar: str) -> None:
    """``--worker`` with ``len(metavar)`` values, hidden from ``--help``: a tool that measures
    something in fresh processes runs itself with it."""
    parser.add_argument("--worker", nargs=len(metavar), metavar=metavar, help=argparse.SUPPRESS)


def sparse_label_tool_parser(doc: str, verb: str) -> argparse.ArgumentParser:
    """``tool_parser`` with the arguments every dense-to-sparse tool takes (``--dense``,
    ``--out-root``, ``--ignore``, ``--suffix``, ``--overwrite``); ``verb`` says in the help what
    the tool never does to a void value ("clicked", "scribbled")."""
    parser = tool_parser(doc)
    parser.add_argument("--dense", type=Path, required=True,
                        help="folder of dense label PNGs (class ids)")
    parser.add_argument("--out-root", type=Path, required=True,
                        help="where the output folder is made")
    parser.add_argument("--ignore", default="255",
                        help=f"comma-separated void values: never {verb}, left out of "
                             "image_classes.json (default 255)")
    parser.add_argument("--suffix", default=".png", help="label file suffix (default .png)")
    add_overwrite_argument(parser, "an existing output folder")
    return parser


def exit_status_of(prog: str, run: Callable, args, errors: Tuple[Type[Exception], ...]) -> int:
    """``run(args)``'s exit status; one of ``errors`` is printed as one line and gives 2.
    SIGTERM ends it with status 143 after removing the temporary files of unfinished writes."""
    try:
        with terminate_cleanly():
            return run(args)
    except errors as e:
        print(f"{prog}: error: {e}", file=sys.stderr)
        return 2


# What a preparation tool reports as one line (exit 2) instead of a traceback: a bad argument
# value (ValueError, InputError among them) or a missing, unreadable or existing file or folder
# (OSError, DatasetLayoutError among them).
PREP_ERRORS = (ValueError, OSError)
