"""Layer 1: every option of every config group composes and instantiates; the schema catches typos."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from hydra.errors import ConfigCompositionException
from omegaconf.errors import ConfigKeyError
from omegaconf.errors import ValidationError
import optuna
from optuna_dashboard import ChoiceWidget
from optuna_dashboard import SliderWidget
import pytest

import hitl
import hitl.evaluators
from hitl.generators.perceptual import PerceptualColorGenerator
import hitl.samplers
from hitl.config import build
from hitl.config import build_storage
from tests.conftest import compose_config
from tests.conftest import CONF


GROUPS = sorted(p.name for p in CONF.iterdir() if p.is_dir() and p.name != "experiment")
OPTIONS = [(g, p.stem) for g in GROUPS for p in sorted((CONF / g).glob("*.yaml"))]
EXPERIMENTS = sorted(p.stem for p in (CONF / "experiment").glob("*.yaml"))
HAS_GP_EXTRA = all(importlib.util.find_spec(m) for m in ("torch", "scipy"))
HAS_PREFERENTIAL_EXTRA = all(importlib.util.find_spec(m) for m in ("torch", "botorch"))


def test_groups_are_the_documented_ones() -> None:
    assert GROUPS == ["artifacts", "evaluator", "generator", "mode", "sampler", "storage", "widget"]
    assert len(OPTIONS) >= 11


@pytest.mark.parametrize(("group", "option"), OPTIONS, ids=[f"{g}={o}" for g, o in OPTIONS])
def test_every_option_composes_and_instantiates(group: str, option: str, tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)  # relative paths (sqlite, journal, artifacts) land in the temp dir
    cfg = compose_config([f"{group}={option}"])
    node = cfg[group]
    if group == "storage":
        if option == "postgres":
            pytest.skip("instantiated against the real server in test_postgres.py")
        obj = build_storage(node)
        assert isinstance(obj, optuna.storages.BaseStorage)
        return
    if group == "artifacts" and option == "s3":
        pytest.skip("instantiated against a real S3-compatible server in test_s3.py")
    if group == "sampler" and option == "preferential_gp" and not HAS_PREFERENTIAL_EXTRA:
        with pytest.raises(hitl.HitlError, match=r"pip install -e '\.\[preferential\]'"):
            build(node, group)
        return
    if group == "sampler" and option == "gp" and not HAS_GP_EXTRA:
        with pytest.raises(hitl.HitlError, match=r"pip install -e '\.\[gp\]'"):
            build(node, group)
        return
    if group == "mode":  # plain knobs, checked by the schema; the runs are in test_preferential.py
        assert node.name == option
        return
    if group == "evaluator":
        if node.rater is None:  # human: people rate in the dashboard
            assert option == "human"
            return
        assert isinstance(build(node.rater, "evaluator.rater"), hitl.evaluators.SimulatedRater)
        return
    obj = build(node, group)
    expected = {
        "sampler": optuna.samplers.BaseSampler,
        "widget": hitl.WidgetSet,
        "generator": hitl.generators.Generator,
        "artifacts": optuna.artifacts.FileSystemArtifactStore,
    }[group]
    assert isinstance(obj, expected)


@pytest.mark.parametrize("experiment", EXPERIMENTS)
def test_every_experiment_composes(experiment: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    cfg = compose_config([f"+experiment={experiment}"])
    assert cfg.batch >= 1 and "_target_" in cfg.sampler


def test_defaults() -> None:
    cfg = compose_config()
    assert (cfg.batch, cfg.n_trials, cfg.dashboard.port, cfg.study_name) == (4, None, 8080, "sunset-slider")
    assert isinstance(build(cfg.sampler, "sampler"), hitl.samplers.LocalizationSampler)
    assert isinstance(build(cfg.generator, "generator"), PerceptualColorGenerator)
    widgets = build(cfg.widget, "widget")
    assert widgets.directions == ["maximize"]
    w = widgets.objectives[0].widget
    assert isinstance(w, SliderWidget) and (w.min, w.max, w.step) == (1, 10, 1)
    assert cfg.storage.url == "sqlite:///hitl.db"


def test_tutorial_experiment_is_the_tutorials_setup() -> None:
    cfg = compose_config(["+experiment=tutorial"])
    assert (cfg.batch, cfg.study_name) == (4, "tutorial-choice")
    sampler = build(cfg.sampler, "sampler")
    assert isinstance(sampler, optuna.samplers.TPESampler)
    assert sampler._n_startup_trials == 5 and sampler._constant_liar
    widgets = build(cfg.widget, "widget")
    assert widgets.directions == ["minimize"]
    w = widgets.objectives[0].widget
    assert isinstance(w, ChoiceWidget) and w.values == [-1, 0, 1] and len(w.choices) == 3
    generator = build(cfg.generator, "generator")
    assert isinstance(generator, hitl.generators.ColorGenerator)
    assert (generator.width, generator.height) == (320, 240)
    assert generator.space == {c: {"low": 0, "high": 255} for c in "rgb"}
    assert cfg.storage.url == "sqlite:///hitl.db"


@pytest.mark.parametrize(("widget", "direction"), [("choice", "minimize"), ("slider", "maximize"), ("text", "maximize")])
def test_direction_follows_widget_set(widget: str, direction: str) -> None:
    widgets = build(compose_config([f"widget={widget}"]).widget, "widget")
    assert widgets.directions == [direction]
    assert compose_config([f"widget={widget}"]).study_name == f"sunset-{widget}"


def test_simulated_ratings_get_a_study_of_their_own() -> None:
    # a person's study must never receive a simulated rater's ratings by default
    assert compose_config(["evaluator=simulated"]).study_name == "sunset-slider-simulated"
    assert compose_config(["+experiment=tutorial", "evaluator=simulated"]).study_name == "tutorial-choice-simulated"


@pytest.mark.parametrize(("overrides", "param", "high"),
                         [(["generator=color", "generator.space.r.high=128"], "r", 128),
                          (["generator.space.L.high=60"], "L", 60)])
def test_space_is_data(overrides: list[str], param: str, high: float) -> None:
    gen = build(compose_config(overrides).generator, "generator")
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        assert gen.suggest(study.ask())[param] <= high


def test_postgres_url_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HITL_POSTGRES_URL", "postgresql+psycopg2://u:secret@db.example:5432/x")
    cfg = compose_config(["storage=postgres"])
    assert cfg.storage.url == "postgresql+psycopg2://u:secret@db.example:5432/x"
    monkeypatch.delenv("HITL_POSTGRES_URL")
    assert compose_config(["storage=postgres"]).storage.url.startswith("postgresql+psycopg2://postgres@127.0.0.1")


@pytest.mark.parametrize(
    ("override", "error"),
    [
        ("batchh=3", ConfigCompositionException),
        ("batch=abc", ConfigCompositionException),
        ("dashboard.prot=1", ConfigCompositionException),
        ("sampler=nope", ConfigCompositionException),
        ("generator.space.L.hgh=1", ConfigCompositionException),
    ],
)
def test_typos_fail_at_compose_time(override: str, error: type[Exception]) -> None:
    with pytest.raises(error) as info:
        compose_config([override])
    cause = info.value.__cause__ or info.value
    assert override.split("=")[0].split(".")[-1] in str(info.value) + str(cause)


def test_schema_types_are_enforced() -> None:
    with pytest.raises((ValidationError, ConfigKeyError, ConfigCompositionException)):
        compose_config(["dashboard.enabled=maybe"])
