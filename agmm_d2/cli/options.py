"""What the command-line tools share: their argument parser and their exit status."""
import argparse
import sys
from pathlib import Path
from typing import Callable, Tuple, Type

from ..utils.atomic import terminate_cleanly

__all__ = ["exit_status_of", "tool_parser"]


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of a tool's docstring and
    whose epilog is the rest, shown as written."""
    first, _, rest = doc.partition("\n\n")
    return argparse.ArgumentParser(description=first, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


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
    parser.add_argument("--overwrite", action="store_true",
                        help="replace an existing output folder")
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
# value (ValueError) or a missing, unreadable or existing file or folder (OSError).
PREP_ERRORS = (ValueError, OSError)
