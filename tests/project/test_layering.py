"""The package's layers read top to bottom, in one sentence:

    utils -> config -> data -> modeling -> evaluation -> engine -> predict -> export -> inspection
    -> api -> cli

a module imports only modules of its own layer and of the layers to its left. The checks read
the real imports: (a) the source of every module: ``import``, ``from ... import`` (relative ones
resolved) and ``importlib.import_module`` / ``__import__`` calls with a literal name, a computed
name being allowed only where ALLOWED_DYNAMIC_IMPORTS says why; (b) what importing does: in a
fresh interpreter, every module of the lower layers is imported, layer by layer from the left,
and after each layer no module of engine or a layer to its right is in ``sys.modules`` (after
the engine, none of predict and the layers to its right); a layer that loads one is named, since
the layers before it passed. The checker is also run on a small package with upward imports, to
show that it finds them.
"""
import ast
import json
import subprocess
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import pytest

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "agmm_d2"
# Left to right; a module may import its own layer and the layers before it.
LAYERS = ["utils", "config", "data", "modeling", "evaluation", "engine", "predict", "export",
          "inspection", "api", "cli"]
# Top-level modules that belong to a layer of another name.
MODULE_LAYERS = {"config_renames": "config"}
# The layers that may import nothing of engine, predict, export, inspection, api or cli, and the
# engine, which may import nothing of predict, export, inspection, api or cli (the rule;
# the order among the lower layers is checked by the source check).
LOWER = ["utils", "config", "data", "modeling", "evaluation"]
# Modules that import a module whose name is computed, and why that cannot go upward.
ALLOWED_DYNAMIC_IMPORTS = {
    "agmm_d2.engine.registration": "runs the user's own registration module (--register)",
}


def _module_name(path: Path, root: Path, package: str) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join([package, *parts])


def _modules(root: Path, package: str) -> Dict[str, Path]:
    """{module name: file} of every module of the package at ``root``."""
    return {_module_name(p, root, package): p for p in sorted(root.rglob("*.py"))
            if "__pycache__" not in p.parts}


def _resolve(module: str, is_package: bool, level: int, name: Optional[str]) -> str:
    """The absolute name of ``from <level dots><name> import ...`` in ``module``."""
    base = module.split(".") if is_package else module.split(".")[:-1]
    base = base[:len(base) - (level - 1)]
    return ".".join(base + ([name] if name else []))


def imports_of(path: Path, module: str) -> List[str]:
    """The modules that the file ``path`` (module ``module``) imports, as absolute names;
    "<dynamic>" for an import_module/__import__ call whose name is not a literal."""
    is_package = path.name == "__init__.py"
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            target = _resolve(module, is_package, node.level, node.module) if node.level \
                else node.module
            # ``from pkg import sub`` imports the module pkg.sub where there is one.
            found += [target] + [f"{target}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Call):
            func = node.func
            name = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
            if name in ("import_module", "__import__"):
                arg = node.args[0] if node.args else None
                literal = isinstance(arg, ast.Constant) and isinstance(arg.value, str)
                found.append(arg.value if literal else "<dynamic>")
    return found


def layer_of(module: str, package: str, layers: Sequence[str],
             module_layers: Optional[dict] = None) -> Optional[str]:
    """The layer of ``module`` (None: the package root, or not a module of the package)."""
    parts = module.split(".")
    if parts[0] != package or len(parts) < 2:
        return None
    top = (module_layers or {}).get(parts[1], parts[1])
    return top if top in layers else None


def upward_imports(root: Path, package: str, layers: Sequence[str], module_layers=None,
                   allowed_dynamic=()) -> List[str]:
    """One line per import of a module of a higher layer, and per computed import name outside
    ``allowed_dynamic``, in the package at ``root``."""
    modules = _modules(root, package)
    problems = []
    for module, path in modules.items():
        layer = layer_of(module, package, layers, module_layers)
        if layer is None:
            continue
        for target in imports_of(path, module):
            if target == "<dynamic>":
                if module not in allowed_dynamic:
                    problems.append(f"{module}: imports a module whose name is computed")
                continue
            if target not in modules:
                continue  # another package's, or a name imported from a module
            other = layer_of(target, package, layers, module_layers)
            if other is not None and layers.index(other) > layers.index(layer):
                problems.append(f"{module} ({layer}) imports {target} ({other})")
    return sorted(set(problems))


_IMPORT_IN_TURN = """
import importlib, json, sys
package, groups, loaded = sys.argv[1], json.loads(sys.argv[2]), []
for names in groups:
    for name in names:
        importlib.import_module(name)
    loaded.append(sorted(m for m in sys.modules if m.split(".")[0] == package))
print(json.dumps(loaded))
"""


def modules_after_importing(groups: Sequence[Sequence[str]], package: str,
                            path: Path) -> List[List[str]]:
    """In one fresh interpreter (``path`` first on its sys.path), the groups of modules imported
    in turn: the modules of ``package`` in sys.modules after each group."""
    run = subprocess.run([sys.executable, "-c", _IMPORT_IN_TURN, package, json.dumps(groups)],
                         cwd=path, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads(run.stdout.strip().splitlines()[-1])


def test_no_module_imports_a_higher_layer():
    assert upward_imports(PACKAGE, "agmm_d2", LAYERS, MODULE_LAYERS,
                          ALLOWED_DYNAMIC_IMPORTS) == []


def test_every_module_is_in_a_layer():
    """A new subpackage or top-level module must be placed in the sentence."""
    for module in _modules(PACKAGE, "agmm_d2"):
        if module != "agmm_d2":
            assert layer_of(module, "agmm_d2", LAYERS, MODULE_LAYERS), module


def test_the_package_root_imports_only_the_lowest_layers():
    """``import agmm_d2`` registers the model and the datasets: config, data and modeling."""
    imported = imports_of(PACKAGE / "__init__.py", "agmm_d2")
    layers = {layer_of(m, "agmm_d2", LAYERS, MODULE_LAYERS) for m in imported} - {None}
    assert layers <= {"utils", "config", "data", "modeling"}, layers


@pytest.fixture(scope="module")
def loaded_after_each_layer():
    """{layer: the agmm_d2 modules loaded once it and the layers to its left are imported}."""
    checked = LOWER + ["engine"]
    groups = [[m for m in _modules(PACKAGE, "agmm_d2")
               if layer_of(m, "agmm_d2", LAYERS, MODULE_LAYERS) == layer] for layer in checked]
    assert all(groups), checked
    return dict(zip(checked, modules_after_importing(groups, "agmm_d2", REPO))), groups


@pytest.mark.parametrize("layer", LOWER + ["engine"])
def test_importing_a_layer_loads_no_higher_layer(layer, loaded_after_each_layer):
    loaded, groups = loaded_after_each_layer
    assert set(groups[(LOWER + ["engine"]).index(layer)]) <= set(loaded[layer])
    higher = LAYERS[LAYERS.index("engine") + (layer == "engine"):]
    assert [m for m in loaded[layer]
            if layer_of(m, "agmm_d2", LAYERS, MODULE_LAYERS) in higher] == []


@pytest.fixture
def upward_package(tmp_path):
    """A package 'fakepkg' with layers low -> high, whose low layer imports the high one three
    ways: a relative import, importlib with a literal name, importlib with a computed name."""
    root = tmp_path / "fakepkg"
    files = {
        "__init__.py": "",
        "low/__init__.py": "",
        "low/plain.py": "import os\n",
        "low/relative.py": "from ..high import thing  # noqa\n",
        "low/literal.py": "import importlib\nimportlib.import_module('fakepkg.high')\n",
        "low/computed.py": "import importlib\nNAME = 'fakepkg.' + 'high'\n"
                           "importlib.import_module(NAME)\n",
        "high/__init__.py": "thing = 1\n",
    }
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    return root


def test_the_checks_find_upward_imports(upward_package):
    problems = upward_imports(upward_package, "fakepkg", ["low", "high"])
    assert problems == ["fakepkg.low.computed: imports a module whose name is computed",
                        "fakepkg.low.literal (low) imports fakepkg.high (high)",
                        "fakepkg.low.relative (low) imports fakepkg.high (high)"]
    assert upward_imports(upward_package, "fakepkg", ["low", "high"],
                          allowed_dynamic={"fakepkg.low.computed"})[0].startswith(
        "fakepkg.low.literal")
    plain, computed = modules_after_importing([["fakepkg.low.plain"], ["fakepkg.low.computed"]],
                                              "fakepkg", upward_package.parent)
    assert "fakepkg.high" not in plain
    assert "fakepkg.high" in computed  # what the runtime check reports for a real package
