"""Import a script of the repository (tools/, benchmarks/, datasets_prep/) as a module, for tests."""
import importlib.util
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def load_script(relative_path: str, name: str = None):
    """The script at ``REPO / relative_path`` executed as a module named ``name`` (default its
    stem). Its folder is on the path while it loads, as when it runs (tools of earlier versions
    imported their neighbours)."""
    path = REPO / relative_path
    spec = importlib.util.spec_from_file_location(name or path.stem, path)
    module = importlib.util.module_from_spec(spec)
    sys.path.insert(0, str(path.parent))
    try:
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(path.parent))
    return module
