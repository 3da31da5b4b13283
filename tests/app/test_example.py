"""The custom-generator example runs as documented, and docs/generators.md shows it verbatim."""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys

import optuna
from PIL import Image

from tests.conftest import ROOT
from tests.conftest import waiting_trials


def test_docs_show_the_example_files_verbatim() -> None:
    page = (ROOT / "docs" / "generators.md").read_text()
    for path in ["examples/stripes.py", "examples/conf/generator/stripes.yaml"]:
        assert (ROOT / path).read_text().strip() in page, f"docs/generators.md is out of date with {path}"


def test_readme_links_to_pages_that_exist() -> None:
    import re

    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            assert (page.parent / target).exists(), f"{page.name} links to {target}, which does not exist"


def test_custom_generator_plugs_in_by_target(tmp_path: Path) -> None:
    res = subprocess.run(
        [sys.executable, str(ROOT / "run.py"), f"hydra.searchpath=[file://{ROOT / 'examples/conf'}]",
         "generator=stripes", "study_name=stripes", "timeout=3", "dashboard.enabled=false"],
        cwd=tmp_path, capture_output=True, text=True, timeout=120,
    )
    assert res.returncode == 0, res.stdout + res.stderr
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    study = optuna.load_study(study_name="stripes", storage=storage)
    waiting = waiting_trials(storage, study._study_id)
    assert len(waiting) == 4 and set(waiting[0].params) == {"hue", "width"}
    images = sorted((tmp_path / "artifacts").iterdir())
    assert len(images) == 4
    with Image.open(images[0]) as img:
        assert img.size == (240, 240) and len(img.getcolors()) == 2  # two colours of stripes
