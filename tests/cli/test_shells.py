"""The scripts in tools/, datasets_prep/ and benchmarks/ are one-call shells of a module of the
same name (agmm_d2.cli or agmm_benchmarks), every command's argparse is in agmm_d2/cli/ with the
shared options defined once, every tool has a console script and --help."""
import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SCRIPT_FOLDERS = {"tools": "agmm_d2.cli", "datasets_prep": "agmm_d2.cli",
                  "benchmarks": "agmm_benchmarks"}
# tools/install_detectron2.py provisions detectron2, so it must run before agmm_d2 (which
# imports detectron2) is importable: it cannot be a shell of the package.
NOT_SHELLS = {"tools/install_detectron2.py"}
SCRIPTS = sorted(p.relative_to(REPO).as_posix() for folder in SCRIPT_FOLDERS
                 for p in (REPO / folder).glob("*.py"))
CLI = REPO / "agmm_d2" / "cli"
TOOL_MODULES = sorted(p.stem for p in CLI.glob("*.py") if p.stem not in ("__init__", "options"))


def shell_module(path: Path):
    """The module a one-call shell runs, or None when the file is not exactly: a docstring,
    ``import sys``, ``from <module> import main`` and ``if __name__ == "__main__":
    sys.exit(main())``."""
    body = ast.parse(path.read_text()).body
    if len(body) != 4 or not (isinstance(body[0], ast.Expr) and isinstance(body[0].value,
                                                                           ast.Constant)):
        return None
    imports_sys = ast.unparse(body[1]) == "import sys"
    call = ast.unparse(body[3]) == "if __name__ == '__main__':\n    sys.exit(main())"
    one_import = isinstance(body[2], ast.ImportFrom) and [a.name for a in body[2].names] == \
        ["main"] and body[2].level == 0
    return body[2].module if imports_sys and call and one_import else None


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_script_is_a_one_call_shell_of_its_module(script):
    if script in NOT_SHELLS:
        return
    folder, name = script.split("/")
    assert shell_module(REPO / script) == f"{SCRIPT_FOLDERS[folder]}.{Path(name).stem}", script


def test_the_shell_check_can_fail(tmp_path):
    good = "\"\"\"Doc.\"\"\"\nimport sys\n\nfrom agmm_d2.cli.x import main\n\n" \
           "if __name__ == \"__main__\":\n    sys.exit(main())\n"
    (tmp_path / "good.py").write_text(good)
    (tmp_path / "bad.py").write_text(good.replace("import sys\n", "import sys\nimport argparse\n"))
    assert shell_module(tmp_path / "good.py") == "agmm_d2.cli.x"
    assert shell_module(tmp_path / "bad.py") is None


def test_no_argparse_outside_the_cli():
    """``grep -rl argparse tools datasets_prep benchmarks`` finds nothing but the exempt
    installer; in the package only agmm_d2/cli/ builds parsers."""
    found = [p.relative_to(REPO).as_posix() for folder in SCRIPT_FOLDERS
             for p in (REPO / folder).rglob("*.py") if "argparse" in p.read_text()]
    assert found == sorted(NOT_SHELLS)
    package = [p.relative_to(REPO).as_posix() for p in (REPO / "agmm_d2").rglob("*.py")
               if "add_argument(" in p.read_text() and CLI not in p.parents]
    assert package == []


@pytest.mark.parametrize("option", ["--register", "--overwrite", "--output", "--config-file"])
def test_shared_options_are_defined_once(option):
    """The shared options are added in agmm_d2/cli/options.py only (train_net.py's
    --config-file is detectron2's default_argument_parser's)."""
    pattern = re.compile(r"add_argument\(\s*\"" + re.escape(option) + r"\"")
    files = [p.relative_to(REPO).as_posix()
             for folder in ("agmm_d2", "benchmarks", "tools", "datasets_prep")
             for p in (REPO / folder).rglob("*.py") if pattern.search(p.read_text())]
    expected = [] if option == "--config-file" else ["agmm_d2/cli/options.py"]
    if option == "--config-file":  # passed to add_argument as a variable: the flag parameter
        assert "flag: str = \"--config-file\"" in (CLI / "options.py").read_text()
    assert files == expected


def console_scripts() -> dict:
    """{name: "module:function"} of pyproject.toml's [project.scripts] (read without tomllib,
    which Python 3.9 lacks)."""
    text = (REPO / "pyproject.toml").read_text().split("[project.scripts]\n", 1)[1]
    section = text.split("\n[", 1)[0]
    return dict(re.findall(r'^([\w-]+) = "([\w.:]+)"$', section, re.M))


def test_every_tool_has_a_console_script():
    scripts = console_scripts()
    targets = sorted(target.split(":")[0].rsplit(".", 1)[1] for target in scripts.values())
    assert targets == TOOL_MODULES and "agmm-export" in scripts
    assert all(target.endswith(":main") for target in scripts.values())
    for module in TOOL_MODULES:  # and a shell under tools/ or datasets_prep/ of its name
        assert (REPO / "tools" / f"{module}.py").is_file() or \
            (REPO / "datasets_prep" / f"{module}.py").is_file(), module


TOOLS = ["voc_points", "voc_scribbles", "voc_train_aug", "cityscapes_clicks", "make_clicks",
         "make_scribbles", "image_classes", "check_dataset", "import_annotations", "make_synthetic"]

# Runs each script file as __main__ with --help, one after the other in one interpreter (one
# import of torch and detectron2 instead of one per tool), and marks where each one's output ends.
_HELP_EACH = """
import sys
for path in sys.argv[1:]:
    sys.argv = [path, "--help"]
    try:
        exec(compile(open(path).read(), path, "exec"), {"__name__": "__main__", "__file__": path})
    except SystemExit as e:
        assert e.code in (0, None), (path, e.code)
    print("@@end", path, flush=True)
"""


@pytest.mark.slow
def test_every_tool_has_help():
    paths = [f"datasets_prep/{tool}.py" for tool in TOOLS]
    run = subprocess.run([sys.executable, "-c", _HELP_EACH, *paths], cwd=REPO,
                         capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr[-2000:]
    outputs = run.stdout.split("@@end")[:-1]
    assert len(outputs) == len(TOOLS), run.stdout[-2000:]
    for tool, out in zip(TOOLS, outputs):
        assert f"usage: {tool}.py" in out, (tool, out[-500:])
