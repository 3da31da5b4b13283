"""The contact sheet: every rated trial's output on one picture, labelled, the best ones framed."""

from __future__ import annotations

from collections.abc import Callable
import contextlib
import io
import json
import logging
import math
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.study import StudyDirection
from optuna.trial import FrozenTrial
from optuna.trial import TrialState
from optuna_dashboard._form_widget import get_form_widgets_json
from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont
from PIL import ImageOps
from PIL import UnidentifiedImageError

from hitl._errors import HitlError
from hitl._errors import one_line as _one_line
from hitl.queue._attrs import READY_ATTR
from hitl.queue._verdict import not_a_rating
from hitl.results._layout import BEST_COLOUR
from hitl.results._layout import GAP
from hitl.results._layout import SheetLayout
from hitl.results._text import fit
from hitl.results._text import load_font
from hitl.results._text import printable
from hitl.results._text import text_cell
from hitl.results._text import TEXT_COLOUR
from hitl.results._waveform import WAVE_SUFFIXES
from hitl.results._waveform import waveform_cell
from hitl.server._rating._records import RATER_ATTR


__all__ = ["contact_sheet", "rated_trials"]

_log = logging.getLogger("hitl")

_BACKGROUND = (255, 255, 255)
_THUMB_BACKGROUND = (238, 238, 238)
_OUTLINE = (200, 200, 200)
_ARTIFACTS_PREFIX = "artifacts:"  # trial system attrs written by optuna.artifacts.upload_artifact


def contact_sheet(
    study: optuna.Study,
    artifact_store: ArtifactStore,
    path: Path,
    *,
    columns: int | None = None,
    thumb: int = 160,
) -> Path:
    """Draw every rated trial's output on one PNG, labelled, with the best trials framed.

    Cells follow trial order. Each is labelled ``Trial N`` and its rating: a choice widget's
    label (registered with optuna-dashboard's form widgets), otherwise the number. The best
    trials (every trial sharing the best value for one objective, the Pareto front for
    several) get a :data:`BORDER`-pixel frame in :data:`BEST_COLOUR`. Outputs that are not
    images, or that are missing from the store, get a grey cell with the file name.

    Args:
        study: The study.
        artifact_store: The store the outputs were uploaded to.
        path: The PNG to write; its folder is created.
        columns: Cells per row (default: a near-square grid).
        thumb: Side of the square each output is scaled into, in pixels.

    Returns:
        ``path``.

    Raises:
        HitlError: The study has no rated trial.
    """
    rated = rated_trials(study)
    layout = SheetLayout.for_count(len(rated), columns=columns, thumb=thumb)
    best = _best_numbers(study, rated)
    label = _rating_labeller(study)
    font = load_font(layout.font_size)
    bold = load_font(layout.font_size + 2, bold=True)

    sheet = Image.new("RGB", layout.size, _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    best_list = ", ".join(str(n) for n in sorted(best))
    if len(study.directions) == 1:
        best_what = f"best ({printable(label(next(t for t in rated if t.number in best)), font)})"
    else:
        best_what = "Pareto-best"
    draw.text((GAP, GAP), fit(f"{study.study_name}", bold, layout.size[0] - 2 * GAP), font=bold, fill=TEXT_COLOUR)
    plural = "s" if len(best) > 1 else ""
    legend = f"{len(rated)} rated, in trial order; {best_what} framed: trial{plural} {best_list}"
    draw.text((GAP, GAP + layout.line_height), fit(legend, font, layout.size[0] - 2 * GAP), font=font, fill=TEXT_COLOUR)

    for index, trial in enumerate(rated):
        left, top, right, bottom = layout.cell_box(index)
        t_left, t_top, t_right, t_bottom = layout.thumb_box(index)
        is_best = trial.number in best
        if is_best:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=BEST_COLOUR)
        else:
            draw.rectangle((t_left - 1, t_top - 1, t_right, t_bottom), outline=_OUTLINE)
        sheet.paste(_thumbnail(trial, artifact_store, layout.thumb, font), (t_left, t_top))
        title = f"Trial {trial.number}" + ("  \u2605 best" if is_best else "")
        text_top = bottom + 3
        draw.text((left, text_top), fit(title, bold if is_best else font, layout.cell_width),
                  font=bold if is_best else font, fill=TEXT_COLOUR)
        draw.text((left, text_top + layout.line_height), fit(label(trial), font, layout.cell_width),
                  font=font, fill=TEXT_COLOUR)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return path


def rated_trials(study: optuna.Study) -> list[FrozenTrial]:
    n = len(study.directions)
    # a trial told without its output, or with values that are no rating, is left out (hitl.queue._verdict)
    rated = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
             if not_a_rating(t.state, t.values, n, made_by_hitl="hitl:lease" in t.system_attrs,
                             ready=READY_ATTR in t.system_attrs) is None]
    if not rated:
        raise HitlError(f"study {study.study_name!r} has no rated trials yet: rate some in Optuna Dashboard first")
    return sorted(rated, key=lambda t: t.number)


def _best_numbers(study: optuna.Study, rated: list[FrozenTrial]) -> set[int]:
    directions = study.directions
    if len(directions) == 1:
        pick = min if directions[0] == StudyDirection.MINIMIZE else max
        best = pick(t.values[0] for t in rated)
        return {t.number for t in rated if t.values[0] == best}
    return {t.number for t in study.best_trials}


def _rating_labeller(study: optuna.Study) -> Callable[[FrozenTrial], str]:
    """How a trial's rating reads: the choice label where the form is a choice, else the number,
    and the names of the people who rated it in the rating view."""
    forms = get_form_widgets_json(study._storage.get_study_system_attrs(study._study_id)) or {}
    widgets: list[dict[str, Any]] = []
    if forms.get("output_type") == "objective":
        widgets = list(forms.get("widgets") or [])

    def one(i: int, value: float) -> str:
        widget = widgets[i] if i < len(widgets) else {}
        if widget.get("type") == "choice":
            for choice, v in zip(widget.get("choices", []), widget.get("values", [])):
                if _same(v, value):
                    return f"{choice}"
        return f"{value:g}"

    def label(trial: FrozenTrial) -> str:
        rating = " / ".join(one(i, v) for i, v in enumerate(trial.values or []))
        raters = trial.user_attrs.get(RATER_ATTR)  # who rated it in the rating view
        if isinstance(raters, str):
            raters = [raters]
        return f"{rating} by {', '.join(str(r) for r in raters)}" if raters else rating

    return label


def _same(a: Any, b: float) -> bool:
    try:
        return math.isclose(float(a), b, rel_tol=0, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _thumbnail(trial: FrozenTrial, store: ArtifactStore, side: int, font: ImageFont.ImageFont) -> Image.Image:
    """The trial's output scaled into a ``side`` square (a WAV's waveform); a grey square naming it otherwise."""
    meta = _output(trial)
    if meta is None:
        return text_cell("(no output)", side, font)
    filename = str(meta.get("filename") or meta.get("artifact_id"))
    if str(meta.get("mimetype", "")).startswith("image/") or Path(filename).suffix.lower() in Image.registered_extensions():
        try:
            with contextlib.closing(store.open_reader(meta["artifact_id"])) as reader:
                data = reader.read()
            with Image.open(io.BytesIO(data)) as img:
                img = ImageOps.exif_transpose(img)
                if img.mode in ("RGBA", "LA", "P"):
                    img = img.convert("RGBA")
                    flat = Image.new("RGB", img.size, _THUMB_BACKGROUND)
                    flat.paste(img, mask=img.getchannel("A"))
                    img = flat
                img = ImageOps.contain(img.convert("RGB"), (side, side))
        except UnidentifiedImageError:
            return text_cell(filename, side, font)
        except Exception as exc:  # noqa: BLE001 - a missing or unreadable output must not stop the sheet
            _log.warning("trial %d: cannot read its output %s (%s)", trial.number, filename, _one_line(exc))
            return text_cell(f"missing: {filename}", side, font)
        square = Image.new("RGB", (side, side), _THUMB_BACKGROUND)
        square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
        return square
    if Path(filename).suffix.lower() in WAVE_SUFFIXES:
        try:
            with contextlib.closing(store.open_reader(meta["artifact_id"])) as reader:
                return waveform_cell(reader.read(), side, font, filename)
        except Exception as exc:  # noqa: BLE001 - an unreadable sound gets its name, as any other file
            _log.warning("trial %d: cannot draw its sound %s (%s)", trial.number, filename, _one_line(exc))
    return text_cell(filename, side, font)


def _output(trial: FrozenTrial) -> dict[str, Any] | None:
    """The trial's uploaded output (the first image if it has several)."""
    outputs = []
    for key in sorted(trial.system_attrs):
        if key.startswith(_ARTIFACTS_PREFIX):
            value = trial.system_attrs[key]
            try:
                meta = json.loads(value) if isinstance(value, str) else dict(value)
            except (TypeError, ValueError):
                continue
            if "artifact_id" in meta:
                outputs.append(meta)
    images = [m for m in outputs if str(m.get("mimetype", "")).startswith("image/")]
    return (images or outputs or [None])[0]
