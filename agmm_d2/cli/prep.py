"""Console entry points of the label-preparation tools: their ``main`` with one-line errors."""
import importlib
import sys
from typing import Callable

from agmm_d2.cli.options import PREP_ERRORS, exit_status_of


def _entry(prog: str, module: str) -> Callable[[], int]:
    """An entry point running ``module.main`` on the command line's arguments (exit status 2
    with one line on a bad argument or file)."""
    def run() -> int:
        main = importlib.import_module(module).main
        return exit_status_of(prog, main, sys.argv[1:], PREP_ERRORS) or 0
    return run


check_dataset = _entry("agmm-check-dataset", "agmm_d2.data.checks.report")
import_annotations = _entry("agmm-import-annotations", "agmm_d2.cli.import_annotations")
make_clicks = _entry("agmm-make-clicks", "agmm_d2.cli.make_clicks")
make_scribbles = _entry("agmm-make-scribbles", "agmm_d2.cli.make_scribbles")
