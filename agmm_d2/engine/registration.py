"""Dataset registrations that reach every process of a run.

detectron2's ``launch`` starts fresh processes, in which only the built-in datasets exist. Two
ways bring the user's datasets there:

- ``DatasetSnapshot``: the catalog entries (loader function and metadata) of the datasets a
  config uses, taken in the calling process (a notebook, a script) and registered again in each
  new one. The loader functions travel with cloudpickle, so a function defined in a notebook
  works too. The Python API does this by itself.
- ``run_registrations``: the user's own registration code, a module or a ``.py`` file, run in
  every process (``tools/train_net.py --register``); also what several machines need.
"""
import importlib
import os
import runpy
import sys
from pathlib import Path
from typing import Iterable, List, Sequence

import cloudpickle
from detectron2.data import DatasetCatalog, MetadataCatalog

from ..data.checks import check_registered
from ..utils.errors import InputError

__all__ = ["DatasetSnapshot", "run_registrations"]

# Registration specs already run in this process (a spec is run once per process).
_RUN_SPECS = set()


class DatasetSnapshot:
    """The DatasetCatalog and MetadataCatalog entries of some datasets, picklable (cloudpickle),
    to be registered again in another process with ``restore()``."""

    def __init__(self, names: Iterable[str]):
        self.entries = []
        for name in dict.fromkeys(names):
            check_registered(name, "DATASETS")
            metadata = MetadataCatalog.get(name).as_dict()
            metadata.pop("name", None)
            self.entries.append((name, DatasetCatalog[name], metadata))
        try:
            self._payload = cloudpickle.dumps(self.entries)
        except Exception as e:  # cloudpickle raises several types for what it cannot pickle
            raise InputError(
                f"the registration of datasets {[n for n, *_ in self.entries]} cannot be sent to "
                f"other processes ({type(e).__name__}: {e}); put it in a module or a .py file and "
                "pass it as register=[...] (the command line's --register)") from None

    def __getstate__(self):
        return {"payload": self._payload}

    def __setstate__(self, state):
        self._payload = state["payload"]
        self.entries = cloudpickle.loads(self._payload)

    def restore(self) -> None:
        """Register every entry in this process, replacing a dataset of the same name."""
        for name, loader, metadata in self.entries:
            if name in DatasetCatalog.list():
                DatasetCatalog.remove(name)
                MetadataCatalog.remove(name)
            DatasetCatalog.register(name, loader)
            MetadataCatalog.get(name).set(**metadata)


def _import_user_module(spec: str) -> None:
    # As `python -m` would: the current folder is searched first.
    cwd = os.getcwd()
    added = cwd not in sys.path
    if added:
        sys.path.insert(0, cwd)
    try:
        importlib.import_module(spec)
    except ModuleNotFoundError as e:
        if e.name is None or not (spec == e.name or spec.startswith(e.name + ".")):
            raise  # a module that the user's module imports is missing: show where
        raise InputError(f"--register {spec!r}: no module named {e.name!r} here (give an "
                         "importable module, e.g. my_pkg.datasets, or a .py file)") from None
    finally:
        if added:
            sys.path.remove(cwd)


def run_registrations(specs: Sequence[str]) -> List[str]:
    """Run each registration spec once in this process: a ``.py`` file (run as a script) or a
    module name (imported). Returns the specs run now. Errors in the user's code propagate."""
    ran = []
    for spec in specs or ():
        if spec in _RUN_SPECS:
            continue
        if spec.endswith(".py"):
            path = Path(spec)
            if not path.is_file():
                raise InputError(f"--register {spec!r}: no such file")
            runpy.run_path(str(path), run_name="__agmm_d2_registration__")
        else:
            _import_user_module(spec)
        _RUN_SPECS.add(spec)
        ran.append(spec)
    return ran
