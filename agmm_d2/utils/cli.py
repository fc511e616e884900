"""What the command-line tools share: their argument parser and their exit status."""
import argparse
import sys
from typing import Callable, Tuple, Type

from .atomic import terminate_cleanly

__all__ = ["exit_status_of", "tool_parser"]


def tool_parser(doc: str) -> argparse.ArgumentParser:
    """An argument parser whose description is the first paragraph of a tool's docstring and
    whose epilog is the rest, shown as written."""
    first, _, rest = doc.partition("\n\n")
    return argparse.ArgumentParser(description=first, epilog=rest or None,
                                   formatter_class=argparse.RawDescriptionHelpFormatter)


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
