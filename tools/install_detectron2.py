#!/usr/bin/env python
"""Provision detectron2's Python package into the current environment, without its compiled ops.

detectron2 is not on PyPI. If ``import detectron2`` already works (for example a user's own
build from source with CUDA ops) nothing is touched. Otherwise the PyPI wheel
``sal-detectron2==0.7.2`` (a 2024 build of detectron2's main branch, tagged cp310) is fetched,
its sha256 is verified, and only its pure-Python ``detectron2/`` package is copied into this
interpreter's site-packages. Its compiled ``_C`` extension is left out (built for CPython 3.10
and another torch; the AGMM pipeline needs none of detectron2's compiled ops) and so is its
top-level ``tools`` package (it would shadow this repository's ``tools/``).

Usage: python tools/install_detectron2.py [--force]
"""
import argparse
import hashlib
import importlib.util
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

WHEEL_SPEC = "sal-detectron2==0.7.2"
WHEEL_SHA256 = "491af0c7f79bdb2d178e46f6cb16a97c4ac968d45c41ea3f6b6435d59bbee561"
# detectron2's own setup.py needs these at run time; this build's metadata omits them.
EXTRA_RUNTIME_DEPS = ["fvcore>=0.1.5,<0.1.6", "iopath>=0.1.7,<0.1.10"]


def _pip(*args):
    subprocess.check_call([sys.executable, "-m", "pip", *args])


def _fetch_wheel(dest: Path) -> Path:
    _pip("download", "--quiet", "--no-deps", "--dest", str(dest), "--python-version", "3.10",
         "--implementation", "cp", "--only-binary=:all:", WHEEL_SPEC)
    wheels = sorted(dest.glob("sal_detectron2-*.whl"))
    if len(wheels) != 1:
        sys.exit(f"install_detectron2: expected one sal_detectron2 wheel in {dest}, found {wheels}")
    digest = hashlib.sha256(wheels[0].read_bytes()).hexdigest()
    if digest != WHEEL_SHA256:
        sys.exit(
            f"install_detectron2: sha256 of {wheels[0].name} is {digest}, expected {WHEEL_SHA256}; "
            "refusing to install it"
        )
    return wheels[0]


def _runtime_requirements(wheel: zipfile.ZipFile) -> list:
    """The wheel's non-extra Requires-Dist, without its numpy<2 cap (that came from the
    compiled _C extension, which we do not install), plus fvcore and iopath."""
    metadata = next(n for n in wheel.namelist() if n.endswith(".dist-info/METADATA"))
    reqs = []
    for line in wheel.read(metadata).decode().splitlines():
        if not line.startswith("Requires-Dist:"):
            continue
        req = line.split(":", 1)[1].strip()
        if "extra ==" in req or req.replace(" ", "").startswith("numpy<"):
            continue
        reqs.append(req)
    return reqs + EXTRA_RUNTIME_DEPS


def _install_package(wheel_path: Path, site_packages: Path) -> list:
    target = site_packages / "detectron2"
    with (
        zipfile.ZipFile(wheel_path) as wheel,
        tempfile.TemporaryDirectory(dir=site_packages) as tmp,
    ):
        members = [n for n in wheel.namelist()
                   if n.startswith("detectron2/") and not Path(n).name.startswith("_C.")]
        wheel.extractall(tmp, members)
        if target.exists():
            shutil.rmtree(target)
        # The rename is atomic: no half-copied detectron2 is ever importable.
        Path(tmp, "detectron2").rename(target)
        return _runtime_requirements(wheel)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--force", action="store_true",
                        help="replace an importable detectron2 (never needed for a source build)")
    args = parser.parse_args(argv)
    if importlib.util.find_spec("detectron2") is not None and not args.force:
        import detectron2

        print(f"install_detectron2: keeping the detectron2 already importable at "
              f"{Path(detectron2.__file__).parent}")
        return
    site_packages = Path(sysconfig.get_paths()["purelib"])
    with tempfile.TemporaryDirectory() as download_dir:
        wheel = _fetch_wheel(Path(download_dir))
        requirements = _install_package(wheel, site_packages)
    _pip("install", "--quiet", *requirements)
    print(f"install_detectron2: installed detectron2 (pure Python, no _C) into {site_packages}")


if __name__ == "__main__":
    main()
