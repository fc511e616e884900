"""The repository describes itself as it is: docs/development.md's layout block lists every
subpackage and top-level folder (and nothing else), its test table every test folder; no test
imports a private name of the package; no file names a script, config or README section that
does not exist."""
import ast
import importlib
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
DEVELOPMENT = REPO / "docs" / "development.md"
# Where a path of this repository named in the text must exist (docs/configs.md and
# agmm_d2/config_renames.py name the old config paths on purpose).
NAMING_FILES = ["pyproject.toml", "Makefile", "README.md", *sorted(
    p.relative_to(REPO).as_posix() for pattern in ("docs/*.md", "agmm_d2/**/*.py",
                                                   "benchmarks/**/*.py", "tools/*.py",
                                                   "datasets_prep/*.py", "configs/**/*.yaml",
                                                   "examples/*.py", "notebooks/*.ipynb")
    for p in REPO.glob(pattern))]
RENAME_TABLES = {"docs/configs.md", "agmm_d2/config_renames.py"}
REPO_PATH = re.compile(r"(?<![\w./-])((?:tools|datasets_prep|benchmarks|configs|agmm_d2|tests)/"
                       r"[\w./-]+\.(?:py|yaml))")


def layout_block() -> dict:
    """{path: description} of the ``` block under "## Layout", paths as the tree names them
    (``agmm_d2/data/datasets``, ``configs``, ``agmm_d2/config.py``)."""
    text = DEVELOPMENT.read_text().split("\n## Layout\n", 1)[1]
    block = text.split("```\n", 2)[1]
    listed, parents = {}, []
    for line in block.splitlines():
        match = re.match(r"^( *)(\S+/|\S+\.py)\s+(.*)$", line)
        if not match:
            continue
        depth = len(match.group(1)) // 2
        parents = parents[:depth] + [match.group(2).rstrip("/")]
        listed["/".join(parents)] = match.group(3)
    return listed


def subpackages() -> set:
    return {p.parent.relative_to(REPO).as_posix() for p in (REPO / "agmm_d2").rglob("__init__.py")
            if "__pycache__" not in p.parts}


def top_level_folders() -> set:
    return {p.name for p in REPO.iterdir() if p.is_dir() and not p.name.startswith(".")
            and p.name not in ("datasets", "output", "build") and not p.name.endswith(
                ".egg-info") and any(p.rglob("*.*"))}


def test_the_layout_block_is_the_tree():
    listed = layout_block()
    assert all(listed.values()), "every line says what the folder holds"
    folders = {path for path in listed if not path.endswith(".py")}
    assert folders == subpackages() | top_level_folders()
    assert all((REPO / path).is_file() for path in listed if path.endswith(".py"))


def test_the_test_table_covers_every_test_folder():
    text = DEVELOPMENT.read_text().split("\n## Tests\n", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `tests/(\w+)/` \|", text, re.M))
    folders = {p.name for p in (REPO / "tests").iterdir() if p.is_dir() and
               (p / "__init__.py").is_file()}
    assert listed == folders


def private_imports(source: str) -> list:
    """The private (underscore) names of agmm_d2 that ``source`` imports."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("agmm_d2"):
            found += [f"{node.module}.{a.name}" for a in node.names if a.name.startswith("_")]
            found += [node.module] if any(p.startswith("_") for p in node.module.split(".")) \
                else []
        elif isinstance(node, ast.Import):
            found += [a.name for a in node.names if a.name.startswith("agmm_d2") and
                      any(p.startswith("_") for p in a.name.split("."))]
    return found


def test_no_test_imports_a_private_name():
    found = {p.relative_to(REPO).as_posix(): private_imports(p.read_text())
             for p in (REPO / "tests").rglob("*.py")}
    assert {path: names for path, names in found.items() if names} == {}
    assert private_imports("from agmm_d2.modeling.agmm_loss import TERMS, _bilinear_taps") == \
        ["agmm_d2.modeling.agmm_loss._bilinear_taps"]  # the check can fail


def test_no_file_names_a_path_that_does_not_exist():
    missing = []
    for name in NAMING_FILES:
        if name in RENAME_TABLES:
            continue
        for path in REPO_PATH.findall((REPO / name).read_text()):
            # `configs/<dataset>/...` in prose names a pattern, not a file
            if "<" not in path and "*" not in path and not (REPO / path).exists():
                missing.append(f"{name}: {path}")
    assert missing == []
    assert "tools/submit_slurm.py" in REPO_PATH.findall("see tools/submit_slurm.py")


def test_cited_readme_sections_exist():
    headings = set(re.findall(r"^#+ (.+)$", (REPO / "README.md").read_text(), re.M))
    cited = [(name, section) for name in NAMING_FILES
             for section in re.findall(r'README, "([^"]+)"', (REPO / name).read_text())]
    assert cited and all(section in headings for _, section in cited), cited


def _resolves(dotted: str) -> bool:
    """Whether ``dotted`` (agmm_d2.x.y or agmm_benchmarks.x) names a module, or an attribute of
    one."""
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


def test_no_file_names_a_module_that_does_not_exist():
    names = {(name, dotted) for name in NAMING_FILES + ["docs/configs.md"]
             for dotted in re.findall(r"\b((?:agmm_d2|agmm_benchmarks)(?:\.\w+)+)(?![\w*])",
                                      (REPO / name).read_text())}
    assert names and [f"{name}: {dotted}" for name, dotted in sorted(names)
                      if not _resolves(dotted)] == []
    assert not _resolves("agmm_d2.data.prep.make_clicks")  # the check can fail


def test_one_module_per_name_that_says_what_it_holds():
    """One errors.py (InputError defined once, in the lowest layer), at most one demo.py."""
    files = [p.relative_to(REPO).as_posix() for p in (REPO / "agmm_d2").rglob("*.py")]
    assert [f for f in files if f.endswith("/errors.py")] == ["agmm_d2/utils/errors.py"]
    assert len([f for f in files if f.endswith("/demo.py")]) <= 1
    defining = [f for f in files if "class InputError(" in (REPO / f).read_text()]
    assert defining == ["agmm_d2/utils/errors.py"]
