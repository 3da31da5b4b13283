"""hitl installed from its wheel, used by an app of its own, as a user would.

What is real: the wheels (hitl's, built from a copy of this repository, and the example project's
``examples/label_project``), a new virtual environment they are installed into, the ``hitl``,
``python -m hitl`` and ``label-app`` commands run as subprocesses from an unrelated empty folder,
Hydra's plugin discovery finding hitl's search-path plugin in the wheel, and ratings sent to the
app's dashboard over HTTP exactly as its page sends them.

What is shared: the new environment sees the already-installed dependencies (``venv
--system-site-packages``, so no download); both wheels go in with ``--no-deps``. The outer
environment has hitl installed in development mode, so the test checks that ``hitl``, its configs
and its plugin are imported from the new environment's copy, not from this repository.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time
import urllib.request

import optuna
from optuna.trial import TrialState
import pytest

from tests.conftest import free_port
from tests.conftest import ROOT


_SOURCES = ["pyproject.toml", "setup.py", "README.md", "hitl", "conf", "hydra_plugins"]
_SKIP = shutil.ignore_patterns("__pycache__", "*.egg-info", "build")


@pytest.fixture(scope="module")
def venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A new environment holding hitl's wheel and the example project's wheel."""
    base = tmp_path_factory.mktemp("wheel")
    src, dist, env = base / "src", base / "dist", base / "venv"
    src.mkdir()
    for name in _SOURCES:  # a copy: building writes build/ and *.egg-info next to the sources
        (shutil.copytree if (ROOT / name).is_dir() else shutil.copy)(ROOT / name, src / name, **(
            {"ignore": _SKIP} if (ROOT / name).is_dir() else {}))
    shutil.copytree(ROOT / "examples" / "label_project", src / "label_project", ignore=_SKIP)
    for project in (src, src / "label_project"):
        _ok([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation", "-w", str(dist),
             str(project)], cwd=base)
    _ok([sys.executable, "-m", "venv", "--system-site-packages", str(env)], cwd=base)
    wheels = sorted(str(w) for w in dist.glob("*.whl"))
    assert len(wheels) == 2, wheels
    _ok([str(env / "bin" / "python"), "-m", "pip", "install", "-q", "--no-deps", "--no-index", *wheels], cwd=base)
    return env


def test_the_wheel_ships_configs_and_plugin_and_the_venv_uses_them(venv: Path, tmp_path: Path) -> None:
    out = _ok([str(venv / "bin" / "python"), "-c",
               "import hitl, hitl.conf, hydra_plugins.hitl_searchpath_plugin as p; "
               "print(hitl.__file__); print(hitl.conf.__file__); print(p.__file__)"], cwd=tmp_path)
    for line in out.split():
        assert Path(line).is_relative_to(venv), f"{line} is not the wheel's copy"
    conf = Path(out.split()[1]).parent
    assert (conf / "config.yaml").is_file() and (conf / "sampler" / "localizer.yaml").is_file()
    assert (conf / "config.yaml").read_text() == (ROOT / "conf" / "config.yaml").read_text()  # one copy, mapped
    helped = _ok([str(venv / "bin" / "hitl"), "--help"], cwd=tmp_path)
    assert "sampler: " in helped and "widget: " in helped


def test_the_commands_run_a_simulated_study(venv: Path, tmp_path: Path) -> None:
    for command in ([str(venv / "bin" / "hitl")], [str(venv / "bin" / "python"), "-m", "hitl"]):
        out = _ok([*command, "evaluator=simulated", "n_trials=3", "storage=memory"], cwd=tmp_path)
        assert "n_trials reached: 3 rating(s) in study 'sunset-slider-simulated'" in out
        assert "rate the trials at" not in out  # nobody needs to rate: no dashboard
    res = _run([str(venv / "bin" / "hitl"), "batchh=3"], cwd=tmp_path)
    assert res.returncode == 2 and res.stderr.startswith("error: batchh") and res.stderr.count("\n") == 1


def test_an_own_app_composes_hitl_groups_with_its_own_and_is_rated_over_http(venv: Path, tmp_path: Path) -> None:
    helped = _ok([str(venv / "bin" / "label-app"), "--help"], cwd=tmp_path)
    assert "generator: color, label, perceptual" in helped  # hitl's options and the app's own, in one group
    assert "widget: choice, readable, slider, text" in helped
    port = free_port()
    proc = subprocess.Popen([str(venv / "bin" / "label-app"), "n_trials=3", f"dashboard.port={port}", "sampler=random"],
                            cwd=tmp_path, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        for value in (0, 2, 1):  # Not at all, Easily, With effort
            trial_id = _next_waiting(tmp_path / "hitl.db", proc)
            _tell(port, trial_id, value)
        out, _ = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, out
    assert "n_trials reached: 3 rating(s) in study 'label-readable'" in out
    assert "best: trial" in out and "rated Easily" in out  # the choice's label, not its value
    storage = optuna.storages.RDBStorage(f"sqlite:///{tmp_path / 'hitl.db'}")
    study = optuna.load_study(study_name="label-readable", storage=storage)
    rated = [t for t in study.trials if t.state == TrialState.COMPLETE]
    assert sorted(t.values[0] for t in rated) == [0, 1, 2]
    assert study.metric_names == ["Is the label easy to read?"]  # the app's question
    assert set(rated[0].params) == {"hue", "saturation", "lightness"}  # the app's generator
    assert len(list((tmp_path / "artifacts").iterdir())) >= 3
    assert list((tmp_path / "outputs").glob("*/*/label-readable-contact-sheet.png"))
    storage.engine.dispose()


def _next_waiting(db: Path, proc: subprocess.Popen[str]) -> int:
    """The id of a trial waiting with its output, from the app's own database."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert proc.poll() is None, proc.communicate()[0]
        if db.exists():
            try:
                storage = optuna.storages.RDBStorage(f"sqlite:///{db}", skip_table_creation=True)
                try:
                    study_id = storage.get_study_id_from_name("label-readable")
                    for t in storage.get_all_trials(study_id, states=(TrialState.RUNNING,)):
                        if t.system_attrs.get("hitl:ready"):
                            return t._trial_id
                finally:
                    storage.engine.dispose()
            except Exception:  # the app is still creating its tables or holds the write lock
                pass
        time.sleep(0.1)
    raise AssertionError("no trial became ready to rate within 30 s")


def _tell(port: int, trial_id: int, value: float) -> None:
    """Exactly what the dashboard page sends when a person submits a rating."""
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}/api/trials/{trial_id}/tell", method="POST",
        data=json.dumps({"state": "Complete", "values": [value]}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as res:
        assert res.status == 200


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["PYTHONNOUSERSITE"] = "1"
    return env


def _run(cmd: list[str], *, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=_env(), capture_output=True, text=True, timeout=120)


def _ok(cmd: list[str], *, cwd: Path) -> str:
    res = _run(cmd, cwd=cwd)
    assert res.returncode == 0, f"{' '.join(cmd)}: exit {res.returncode}\n{res.stdout}{res.stderr}"
    return res.stdout + res.stderr
