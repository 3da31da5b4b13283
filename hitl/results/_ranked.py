"""The contact sheet of a comparison study: the compared outputs, most preferred first, the best framed."""

from __future__ import annotations

from pathlib import Path

import optuna
from optuna.artifacts._protocol import ArtifactStore
from PIL import Image
from PIL import ImageDraw

from hitl._errors import HitlError
from hitl.queue._compare import Comparisons
from hitl.results._layout import BEST_COLOUR
from hitl.results._layout import GAP
from hitl.results._layout import SheetLayout
from hitl.results._ranking import preference_scores
from hitl.results._sheet import _OUTLINE
from hitl.results._sheet import _thumbnail
from hitl.results._text import fit
from hitl.results._text import load_font
from hitl.results._text import TEXT_COLOUR


__all__ = ["ranked_contact_sheet", "ranked_trials"]


def ranked_trials(study: optuna.Study) -> list[tuple[int, float]]:
    """``(trial number, strength)`` of every compared trial, most preferred first (ties: lower number).

    Raises:
        HitlError: Nobody has compared outputs in the study yet.
    """
    scores = preference_scores(study)
    if not scores:
        raise HitlError(f"study {study.study_name!r} has no comparisons yet: choose the worst output a few times first")
    return sorted(scores.items(), key=lambda item: (-item[1], item[0]))


def ranked_contact_sheet(study: optuna.Study, artifact_store: ArtifactStore, path: Path, *,
                         columns: int | None = None, thumb: int = 160) -> Path:
    """Draw every compared trial's output on one PNG, ordered by estimated preference (a
    Bradley-Terry fit of the choices), the most preferred first and framed.

    Each cell is labelled with the trial, its rank and its strength (log-odds against the
    average output). Returns ``path``; raises :class:`~hitl.HitlError` without comparisons.
    """
    ranked = ranked_trials(study)
    trials = study.get_trials(deepcopy=False)
    layout = SheetLayout.for_count(len(ranked), columns=columns, thumb=thumb)
    font, bold = load_font(layout.font_size), load_font(layout.font_size + 2, bold=True)
    sheet = Image.new("RGB", layout.size, (255, 255, 255))
    draw = ImageDraw.Draw(sheet)
    width = layout.size[0] - 2 * GAP
    choices = len(_choices(study))
    draw.text((GAP, GAP), fit(study.study_name, bold, width), font=bold, fill=TEXT_COLOUR)
    legend = (f"{len(ranked)} compared in {choices} choices, most preferred first; "
              f"most preferred framed: trial {ranked[0][0]}")
    draw.text((GAP, GAP + layout.line_height), fit(legend, font, width), font=font, fill=TEXT_COLOUR)
    for index, (number, strength) in enumerate(ranked):
        left, top, right, bottom = layout.cell_box(index)
        t_left, t_top, t_right, t_bottom = layout.thumb_box(index)
        best = index == 0
        if best:
            draw.rectangle((left, top, right - 1, bottom - 1), fill=BEST_COLOUR)
        else:
            draw.rectangle((t_left - 1, t_top - 1, t_right, t_bottom), outline=_OUTLINE)
        sheet.paste(_thumbnail(trials[number], artifact_store, layout.thumb, font), (t_left, t_top))
        title = f"Trial {number}" + ("  \u2605 best" if best else "")
        draw.text((left, bottom + 3), fit(title, bold if best else font, layout.cell_width),
                  font=bold if best else font, fill=TEXT_COLOUR)
        draw.text((left, bottom + 3 + layout.line_height), fit(f"#{index + 1}  {strength:+.2f}", font, layout.cell_width),
                  font=font, fill=TEXT_COLOUR)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return path


def _choices(study: optuna.Study) -> tuple:
    return Comparisons.of(study._storage.get_study_system_attrs(study._study_id)).choices
