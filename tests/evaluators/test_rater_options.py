"""Every option of the nested groups evaluator/scorer and evaluator/rater composes and instantiates;
each experiment's question, study and simulated rater fit its task."""

from __future__ import annotations

from pathlib import Path

import pytest

import hitl
import hitl.evaluators
from hitl.config import build
from hitl.generators.speech import espeak_ng
from tests.conftest import CONF
from tests.conftest import ROOT
from tests.conftest import compose_config
from tests.conftest import need


SCORERS = sorted(p.stem for p in (CONF / "evaluator" / "scorer").glob("*.yaml"))
RATERS = sorted(p.stem for p in (CONF / "evaluator" / "rater").glob("*.yaml"))
SCORER_CLASS = {"color": "ColorDistance", "perceptual": "ColorDistance", "two_colours": "ColorDistance",
                "srgb": "SrgbDistance", "photo": "PhotoDistance", "synth": "SoundDistance", "speech": "SoundDistance"}
GENERATOR_OF = {"photo": "photo", "synth": "synth", "speech": "speech", "perceptual": "perceptual"}


def _rater(overrides: list[str]) -> hitl.evaluators.SimulatedRater:
    cfg = compose_config(["evaluator=simulated", *overrides])
    return build(cfg.evaluator.rater, "evaluator.rater")


def test_the_options_are_the_documented_ones() -> None:
    assert set(SCORERS) == set(SCORER_CLASS)
    assert RATERS == ["anisotropic", "coarse", "inconsistent", "steady"]


@pytest.mark.parametrize("scorer", SCORERS)
def test_every_scorer_option_instantiates(scorer: str) -> None:
    if scorer == "speech" and espeak_ng() is None:
        need("espeak-ng is not installed: apt-get install espeak-ng")
    generator = GENERATOR_OF.get(scorer, "color")
    rater = _rater([f"generator={generator}", f"evaluator/scorer={scorer}"])
    assert type(rater.scorer).__name__ == SCORER_CLASS[scorer]
    assert rater.noise_sd < rater.thresholds[0] < rater.thresholds[-1] < rater.worst and 0 < rater.success


@pytest.mark.parametrize("generator", ["color", "perceptual", "photo", "synth", "speech"])
def test_the_scorer_follows_the_generator(generator: str) -> None:
    if generator == "speech" and espeak_ng() is None:
        need("espeak-ng is not installed: apt-get install espeak-ng")
    assert type(_rater([f"generator={generator}"]).scorer).__name__ == SCORER_CLASS[generator]


@pytest.mark.parametrize("option", RATERS)
def test_every_rater_option_instantiates(option: str) -> None:
    rater = _rater([f"evaluator/rater={option}"])
    expected = {
        "steady": lambda r: (r.noise_sd, r.lapse, r.levels) == (3, 0, None),
        "inconsistent": lambda r: (round(r.noise_sd, 2), r.lapse) == (8.0, 0.1),
        "coarse": lambda r: r.levels == [1.0, 5.0, 10.0],
        "anisotropic": lambda r: (r.scorer.k_l, r.scorer.k_c, r.scorer.k_h) == (3.333, 1.0, 0.333),
    }[option]
    assert expected(rater)


def test_the_issues_colour_raters_compose() -> None:
    two = _rater(["evaluator/scorer=two_colours"]).scorer
    assert two.targets.tolist() == [[250, 94, 35], [60, 120, 200]]
    photo = _rater(["+experiment=photo", "evaluator/rater=anisotropic"]).scorer
    assert isinstance(photo, hitl.evaluators.PhotoDistance) and photo.k_h == 0.333
    srgb = _rater(["evaluator/scorer=srgb", "evaluator/rater=inconsistent"])
    assert isinstance(srgb.scorer, hitl.evaluators.SrgbDistance) and srgb.lapse == 0.1
    photo = _rater(["+experiment=photo", "evaluator/rater=inconsistent"])  # the habit in the photo's own units
    assert round(photo.noise_sd, 2) == round(2.667 * _rater(["+experiment=photo"]).noise_sd, 2) < 3


@pytest.mark.parametrize(("experiment", "question"), [
    ("photo", "How good does the photo look?"), ("synth", "How much do you like this sound?"),
    ("speech", "How pleasant is this voice?"),
])
def test_each_experiment_asks_its_own_question_in_its_own_study(experiment: str, question: str) -> None:
    for widget in ("slider", "choice", "text"):
        cfg = compose_config([f"+experiment={experiment}", f"widget={widget}"])
        assert cfg.widget.objectives[0].name == question
        assert cfg.study_name == f"{experiment}-{widget}"
    assert compose_config([f"+experiment={experiment}", "evaluator=simulated"]).study_name == f"{experiment}-slider-simulated"
    assert compose_config().widget.objectives[0].name == "Looks like sunset color?"  # the default task's, unchanged


def test_a_generator_without_a_scorer_says_how_to_pick_one() -> None:
    searchpath = f"hydra.searchpath=[file://{ROOT / 'examples/conf'}]"
    with pytest.raises(hitl.HitlError, match="evaluator/scorer="):
        _rater([searchpath, "generator=stripes"])
    assert isinstance(_rater([searchpath, "generator=stripes", "evaluator/scorer=color"]).scorer,
                      hitl.evaluators.ColorDistance)


def test_a_scorer_target_is_overridable_as_before(tmp_path: Path) -> None:
    assert _rater(["evaluator.rater.scorer.target=[1,2,3]"]).scorer.target.tolist() == [1, 2, 3]
    assert _rater(["+experiment=synth", "evaluator.rater.scorer.target.pitch=50"]).scorer.target_path.is_file()
