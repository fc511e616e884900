"""The README and docs/: short README, links that resolve, no machine paths."""
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO = Path(__file__).resolve().parents[2]
README = REPO / "README.md"
DOCS = sorted((REPO / "docs").glob("*.md"))
README_MAX_LINES = 200

# [text](target) and ![alt](target); the target ends at whitespace or ")".
LINK = re.compile(r"!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
FENCE = re.compile(r"^(```|~~~)")
# Paths of a development machine or a user's home, which mean nothing on another machine.
MACHINE_PATH = re.compile(r"(?<![\w.~])/(?:work|home|Users|root|tmp/bash_jobs)/")


def _prose(text: str) -> str:
    """``text`` without fenced code blocks (links are only links outside them)."""
    kept, in_fence = [], False
    for line in text.splitlines():
        if FENCE.match(line.strip()):
            in_fence = not in_fence
            continue
        if not in_fence:
            kept.append(line)
    return "\n".join(kept)


def github_anchor(heading: str) -> str:
    """The anchor GitHub gives a heading: lower case, punctuation dropped, spaces -> '-'."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def anchors(path: Path) -> set:
    found, counts = set(), {}
    for line in _prose(path.read_text(encoding="utf-8")).splitlines():
        match = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if match:
            anchor = github_anchor(match.group(1))
            n = counts.get(anchor, 0)
            counts[anchor] = n + 1
            found.add(anchor if n == 0 else f"{anchor}-{n}")
    return found


def relative_links(path: Path):
    """(target path, anchor or None, raw link) of every relative link in ``path``."""
    for raw in LINK.findall(_prose(path.read_text(encoding="utf-8"))):
        if re.match(r"^[a-z][a-z0-9+.-]*:", raw, re.I):  # http:, https:, mailto:
            continue
        target, _, anchor = raw.partition("#")
        resolved = (path.parent / unquote(target)).resolve() if target else path
        yield resolved, anchor or None, raw


DOC_FILES = [README] + DOCS


def test_readme_is_short():
    lines = README.read_text(encoding="utf-8").count("\n")
    assert lines <= README_MAX_LINES, f"README.md has {lines} lines, at most {README_MAX_LINES}"


def test_docs_folder_has_the_user_documents():
    names = {p.name for p in DOCS}
    for name in ("install.md", "getting_started.md", "datasets.md", "configs.md", "results.md",
                 "troubleshooting.md", "development.md", "method.md"):
        assert name in names, f"docs/{name} is missing"


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_relative_links_resolve(path):
    broken = []
    for target, anchor, raw in relative_links(path):
        if not target.exists():
            broken.append(f"{raw}: no file {target}")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{raw}: no heading with anchor #{anchor}")
        elif REPO not in target.parents and target != REPO:
            broken.append(f"{raw}: points outside the repository")
    assert not broken, f"{path.relative_to(REPO)}: " + "; ".join(broken)


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: p.relative_to(REPO).as_posix())
def test_no_machine_paths(path):
    hits = [f"line {i}: {line.strip()}"
            for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if MACHINE_PATH.search(line)]
    assert not hits, f"{path.relative_to(REPO)} holds absolute machine paths: " + "; ".join(hits)


def test_the_link_checker_can_fail(tmp_path):
    """A broken link, a broken anchor and a machine path are found."""
    (tmp_path / "a.md").write_text("# Title here\n\n[ok](#title-here) [bad](#nope) "
                                   "[gone](missing.md)\n```\n[in code](ignored.md)\n```\n")
    links = list(relative_links(tmp_path / "a.md"))
    assert [raw for *_, raw in links] == ["#title-here", "#nope", "missing.md"]
    assert anchors(tmp_path / "a.md") == {"title-here"}
    assert not (tmp_path / "missing.md").exists()
    assert MACHINE_PATH.search("see /work/main/docs") and MACHINE_PATH.search("/home/me/x")
    assert not MACHINE_PATH.search("python datasets_prep/check_dataset.py ~/data /data/VOC2012")


def test_github_anchor():
    assert github_anchor("Image-level labels (`image_classes.json`)") == \
        "image-level-labels-image_classesjson"
    assert github_anchor("Before a run: the dataset scan") == "before-a-run-the-dataset-scan"
