"""The contact sheet: every rated trial's output on one picture, labelled, the best ones framed."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
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


__all__ = ["BEST_COLOUR", "BORDER", "GAP", "SheetLayout", "contact_sheet", "rated_trials"]

_log = logging.getLogger("hitl")

BORDER = 6  # px: the frame around each best trial's output
BEST_COLOUR = (255, 0, 255)  # magenta: stands out from photos and from sunset colours alike
GAP = 10  # px between cells and around the sheet

_MIN_WIDTH = 480
_BACKGROUND = (255, 255, 255)
_THUMB_BACKGROUND = (238, 238, 238)
_NO_IMAGE = (190, 190, 190)  # the grey cell of an output that is not an image
_OUTLINE = (200, 200, 200)
_TEXT = (20, 20, 20)
_ARTIFACTS_PREFIX = "artifacts:"  # trial system attrs written by optuna.artifacts.upload_artifact


@dataclass(frozen=True)
class SheetLayout:
    """Where everything goes on a contact sheet of ``count`` cells.

    Each cell is the output scaled to fit a ``thumb`` x ``thumb`` square, a ring of
    :data:`BORDER` pixels around it (filled with :data:`BEST_COLOUR` for the best trials,
    background otherwise) and two label lines below. A header with the study name sits on top.

    Args:
        count: Number of cells (rated trials).
        columns: Cells per row.
        thumb: Side of the square each output is scaled into, in pixels.
    """

    count: int
    columns: int
    thumb: int

    @classmethod
    def for_count(cls, count: int, *, columns: int | None = None, thumb: int = 160) -> SheetLayout:
        """The layout for ``count`` cells; ``columns`` defaults to a near-square grid."""
        if count < 1:
            raise ValueError("a contact sheet needs at least one cell")
        if thumb < 16:
            raise ValueError(f"thumb={thumb}: give at least 16 pixels")
        if columns is None:
            columns = math.ceil(math.sqrt(count))
        if columns < 1:
            raise ValueError(f"columns={columns}: give at least 1")
        return cls(count=count, columns=min(columns, count), thumb=thumb)

    @property
    def rows(self) -> int:
        return math.ceil(self.count / self.columns)

    @property
    def font_size(self) -> int:
        return max(11, self.thumb // 12)

    @property
    def line_height(self) -> int:
        return self.font_size + 5

    @property
    def header_height(self) -> int:
        return GAP + 2 * self.line_height

    @property
    def cell_width(self) -> int:
        return self.thumb + 2 * BORDER

    @property
    def cell_height(self) -> int:
        return self.thumb + 2 * BORDER + 2 * self.line_height + 4

    @property
    def size(self) -> tuple[int, int]:
        """Width and height of the whole sheet."""
        width = max(GAP + self.columns * (self.cell_width + GAP), _MIN_WIDTH)  # room for the header
        height = self.header_height + GAP + self.rows * (self.cell_height + GAP)
        return width, height

    def cell_box(self, index: int) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` of cell ``index``'s frame (exclusive right and bottom)."""
        row, column = divmod(index, self.columns)
        left = GAP + column * (self.cell_width + GAP)
        top = self.header_height + GAP + row * (self.cell_height + GAP)
        return left, top, left + self.cell_width, top + self.thumb + 2 * BORDER

    def thumb_box(self, index: int) -> tuple[int, int, int, int]:
        """``(left, top, right, bottom)`` of the square cell ``index``'s output is scaled into."""
        left, top, right, bottom = self.cell_box(index)
        return left + BORDER, top + BORDER, right - BORDER, bottom - BORDER


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
    font = _font(layout.font_size)
    bold = _font(layout.font_size + 2, bold=True)

    sheet = Image.new("RGB", layout.size, _BACKGROUND)
    draw = ImageDraw.Draw(sheet)
    best_list = ", ".join(str(n) for n in sorted(best))
    if len(study.directions) == 1:
        best_what = f"best ({_printable(label(next(t for t in rated if t.number in best)), font)})"
    else:
        best_what = "Pareto-best"
    draw.text((GAP, GAP), _fit(f"{study.study_name}", bold, layout.size[0] - 2 * GAP), font=bold, fill=_TEXT)
    plural = "s" if len(best) > 1 else ""
    legend = f"{len(rated)} rated, in trial order; {best_what} framed: trial{plural} {best_list}"
    draw.text((GAP, GAP + layout.line_height), _fit(legend, font, layout.size[0] - 2 * GAP), font=font, fill=_TEXT)

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
        draw.text((left, text_top), _fit(title, bold if is_best else font, layout.cell_width),
                  font=bold if is_best else font, fill=_TEXT)
        draw.text((left, text_top + layout.line_height), _fit(label(trial), font, layout.cell_width),
                  font=font, fill=_TEXT)

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, format="PNG")
    return path


def rated_trials(study: optuna.Study) -> list[FrozenTrial]:
    rated = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
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
    """How a trial's rating reads: the choice label where the form is a choice, else the number."""
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
        return " / ".join(one(i, v) for i, v in enumerate(trial.values or []))

    return label


def _same(a: Any, b: float) -> bool:
    try:
        return math.isclose(float(a), b, rel_tol=0, abs_tol=1e-9)
    except (TypeError, ValueError):
        return False


def _thumbnail(trial: FrozenTrial, store: ArtifactStore, side: int, font: ImageFont.ImageFont) -> Image.Image:
    """The trial's output scaled into a ``side`` square; a grey square naming it otherwise."""
    meta = _output(trial)
    if meta is None:
        return _text_cell("(no output)", side, font)
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
            return _text_cell(filename, side, font)
        except Exception as exc:  # noqa: BLE001 - a missing or unreadable output must not stop the sheet
            _log.warning("trial %d: cannot read its output %s (%s)", trial.number, filename, _one_line(exc))
            return _text_cell(f"missing: {filename}", side, font)
        square = Image.new("RGB", (side, side), _THUMB_BACKGROUND)
        square.paste(img, ((side - img.width) // 2, (side - img.height) // 2))
        return square
    return _text_cell(filename, side, font)


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


def _text_cell(text: str, side: int, font: ImageFont.ImageFont) -> Image.Image:
    cell = Image.new("RGB", (side, side), _NO_IMAGE)
    draw = ImageDraw.Draw(cell)
    lines = _wrap(text, font, side - 8)[:4]
    line_height = _text_size(font, "Ag")[1] + 4
    top = (side - line_height * len(lines)) // 2
    for i, line in enumerate(lines):
        width = _text_size(font, line)[0]
        draw.text(((side - width) // 2, top + i * line_height), line, font=font, fill=_TEXT)
    return cell


def _wrap(text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    text = _printable(text, font)
    lines, line = [], ""
    for ch in text:
        if _text_size(font, line + ch)[0] > width and line:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines


def _fit(text: str, font: ImageFont.ImageFont, width: int) -> str:
    """``text`` without glyphs the font lacks, cut with an ellipsis to ``width`` pixels."""
    text = _printable(text, font)
    if _text_size(font, text)[0] <= width:
        return text
    while text and _text_size(font, text + "\u2026")[0] > width:
        text = text[:-1]
    return text + "\u2026"


def _printable(text: str, font: ImageFont.ImageFont) -> str:
    """Drop what the font would draw as a box (emoji in labels like ``Good 👍``)."""
    kept = "".join(ch for ch in text if _has_glyph(font, ch))
    return " ".join(kept.split())


def _has_glyph(font: ImageFont.ImageFont, ch: str) -> bool:
    if ch.isspace():
        return True
    if ord(ch) > 0xFFFF or 0xFE00 <= ord(ch) <= 0xFE0F or ch == "\u200d":
        return False  # emoji and their modifiers: no plain text font has them
    drawn = _glyph(font, ch)
    return drawn is not None and drawn != _glyph(font, "\U000f0000")  # a private-use character: the font's box


_GLYPHS: dict[tuple[int, str], bytes | None] = {}


def _glyph(font: ImageFont.ImageFont, ch: str) -> bytes | None:
    key = (id(font), ch)
    if key not in _GLYPHS:
        try:
            image = Image.new("L", (64, 64))
            ImageDraw.Draw(image).text((0, 0), ch, font=font, fill=255)
            _GLYPHS[key] = image.tobytes()
        except Exception:  # noqa: BLE001 - a bitmap font cannot encode the character at all
            _GLYPHS[key] = None
    return _GLYPHS[key]


def _text_size(font: ImageFont.ImageFont, text: str) -> tuple[int, int]:
    left, top, right, bottom = font.getbbox(text or " ")
    return int(right - left), int(bottom - top)


_FONTS: dict[tuple[int, bool], ImageFont.ImageFont] = {}


def _font(size: int, *, bold: bool = False) -> ImageFont.ImageFont:
    """DejaVu Sans where installed, else Pillow's built-in font at ``size``."""
    key = (size, bold)
    if key not in _FONTS:
        names = ["DejaVuSans-Bold.ttf", "LiberationSans-Bold.ttf"] if bold else ["DejaVuSans.ttf", "LiberationSans-Regular.ttf"]
        for name in names:
            try:
                _FONTS[key] = ImageFont.truetype(name, size)
                break
            except OSError:
                continue
        else:
            try:
                _FONTS[key] = ImageFont.load_default(size=size)
            except (TypeError, OSError, ImportError):  # an old Pillow or one without FreeType
                _FONTS[key] = ImageFont.load_default()
    return _FONTS[key]
