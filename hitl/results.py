"""Results a person can look at: a contact sheet of the rated outputs and Optuna's plots.

A study's ratings are numbers in a database; what a person wants after a session is to *see*
them. :func:`write_results` puts three files into a folder, named after the study:

- ``<study>-contact-sheet.png``: every rated trial's output in trial order, each labelled with
  its trial number and rating (a choice widget's label, e.g. ``Good``), the best ones framed;
- ``<study>-history.html``: Optuna's optimization history;
- ``<study>-parallel.html``: Optuna's parallel-coordinate plot (from 2 ratings on).

The HTML files embed plotly.js, so they open without internet. For any study in any storage::

    python -m hitl.results --storage sqlite:///hitl.db --study sunset-choice --artifacts artifacts

(``--storage`` also takes a PostgreSQL URL or a journal file ending in ``.log``; ``--out`` the
folder, ``results`` by default.) Problems end with one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from collections.abc import Sequence
import contextlib
from dataclasses import dataclass
import io
import json
import logging
import math
from pathlib import Path
import re
import sys
from typing import Any

import optuna
from optuna.artifacts._protocol import ArtifactStore
from optuna.storages import BaseStorage
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
from hitl._errors import mask_secrets
from hitl._errors import mask_url


__all__ = [
    "BEST_COLOUR",
    "BORDER",
    "GAP",
    "SheetLayout",
    "contact_sheet",
    "main",
    "result_names",
    "write_plots",
    "write_results",
]

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


def result_names(study_name: str) -> dict[str, str]:
    """The file names :func:`write_results` uses for a study (single-objective plots).

    Args:
        study_name: The study's name; anything but letters, digits, ``.``, ``_`` and ``-``
            becomes ``-``.

    Returns:
        ``{"contact_sheet": ..., "history": ..., "parallel": ...}``.
    """
    stem = _safe_name(study_name)
    return {
        "contact_sheet": f"{stem}-contact-sheet.png",
        "history": f"{stem}-history.html",
        "parallel": f"{stem}-parallel.html",
    }


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
    rated = _rated(study)
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


def write_plots(study: optuna.Study, folder: Path) -> list[Path]:
    """Write Optuna's optimization history and parallel-coordinate plots as standalone HTML.

    plotly.js is embedded, so the files open offline. With several objectives there is one
    file of each per objective (``-history-0.html``, ``-history-1.html``...). The
    parallel-coordinate plot is skipped, with a log line saying why, below 2 rated trials.

    Args:
        study: The study.
        folder: Where to write; created if missing.

    Returns:
        The files written.

    Raises:
        HitlError: The study has no rated trial.
    """
    from optuna.visualization import plot_optimization_history
    from optuna.visualization import plot_parallel_coordinate

    rated = _rated(study)
    names = result_names(study.study_name)
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    metric_names = study.metric_names or [f"Objective {i}" for i in range(len(study.directions))]
    single = len(study.directions) == 1
    written: list[Path] = []
    for i, metric in enumerate(metric_names):
        target: Callable[[FrozenTrial], float] | None = None if single else _objective(i)
        suffix = "" if single else f"-{i}"
        history = plot_optimization_history(study, target=target, target_name=metric)
        history.update_layout(title=f"{study.study_name}: optimization history ({metric})")
        written.append(_write_html(history, folder / names["history"].replace(".html", f"{suffix}.html")))
        if len(rated) < 2:
            _log.info("parallel-coordinate plot skipped: it needs at least 2 rated trials, the study has %d",
                      len(rated))
            continue
        parallel = plot_parallel_coordinate(study, target=target, target_name=metric)
        parallel.update_layout(title=f"{study.study_name}: parallel coordinates ({metric})")
        written.append(_write_html(parallel, folder / names["parallel"].replace(".html", f"{suffix}.html")))
    return written


def write_results(study: optuna.Study, artifact_store: ArtifactStore, folder: Path) -> list[Path]:
    """Write the contact sheet and the plots of ``study`` into ``folder``.

    File names follow :func:`result_names`. Nothing is written when the study has no rating.

    Args:
        study: The study.
        artifact_store: The store the outputs were uploaded to.
        folder: Where to write; created if missing.

    Returns:
        The contact sheet, then the plot files.

    Raises:
        HitlError: The study has no rated trial.
    """
    _rated(study)  # fail before making the folder
    folder = Path(folder)
    sheet = contact_sheet(study, artifact_store, folder / result_names(study.study_name)["contact_sheet"])
    return [sheet, *write_plots(study, folder)]


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m hitl.results``: write a study's results from any storage.

    Args:
        argv: The arguments (default: ``sys.argv[1:]``).

    Returns:
        ``0``; every problem a user can fix ends with one line on stderr and exit status 2.
    """
    parser = argparse.ArgumentParser(
        prog="python -m hitl.results",
        description="Write a study's contact sheet (PNG) and Optuna plots (standalone HTML).",
        epilog="Example: python -m hitl.results --storage sqlite:///hitl.db --study sunset-choice "
               "--artifacts artifacts",
    )
    parser.add_argument("--storage", required=True,
                        help="an RDB URL (sqlite:///hitl.db, postgresql+psycopg2://user@host/db) "
                             "or a journal file path ending in .log")
    parser.add_argument("--study", required=True, help="the study name")
    parser.add_argument("--artifacts", required=True, type=Path,
                        help="the artifact folder (optuna-dashboard's --artifact-dir)")
    parser.add_argument("--out", type=Path, default=Path("results"), help="output folder (default: ./results)")
    args = parser.parse_args(argv)

    logging.basicConfig(level=logging.INFO, format="%(message)s", stream=sys.stderr)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        paths = _results_command(args.storage, args.study, args.artifacts, args.out)
    except HitlError as exc:
        print(f"error: {mask_secrets(str(exc))}", file=sys.stderr)
        return 2
    for p in paths:
        print(p)
    return 0


def _results_command(storage_spec: str, study_name: str, artifacts: Path, out: Path) -> list[Path]:
    from optuna.artifacts import FileSystemArtifactStore

    if not artifacts.is_dir():
        raise HitlError(f"--artifacts {artifacts}: no such folder; give the run's artifact folder")
    storage = _open_storage(storage_spec)
    where = mask_url(storage_spec)
    try:
        study = optuna.load_study(study_name=study_name, storage=storage)
    except KeyError:
        names = [s.study_name for s in storage.get_all_studies()]
        held = ", ".join(repr(n) for n in names[:10]) + (", ..." if len(names) > 10 else "") if names else "none"
        raise HitlError(f"--study {study_name!r}: no such study in {where} (studies there: {held})") from None
    return write_results(study, FileSystemArtifactStore(artifacts), out)


def _open_storage(spec: str) -> BaseStorage:
    """An existing storage, read as it is: no database file or table is created."""
    from optuna.storages import JournalStorage
    from optuna.storages import RDBStorage
    from optuna.storages.journal import JournalFileBackend

    where = mask_url(spec)
    if "://" not in spec:
        if not spec.endswith(".log"):
            raise HitlError(f"--storage {where}: give an RDB URL (sqlite:///hitl.db, postgresql+psycopg2://...) "
                            "or a journal file path ending in .log")
        if not Path(spec).is_file():
            raise HitlError(f"--storage {where}: no such journal file")
        try:
            return JournalStorage(JournalFileBackend(spec))
        except Exception as exc:  # a damaged journal may raise anything
            raise HitlError(f"--storage {where}: cannot read it ({_one_line(exc)})") from None
    if spec.startswith("sqlite:///"):
        file = spec.removeprefix("sqlite:///").split("?", 1)[0]
        if file and file != ":memory:" and not Path(file).is_file():
            raise HitlError(f"--storage {where}: no such database file {file}")
    engine_kwargs: dict[str, Any] = {}
    if spec.startswith(("postgresql", "postgres")):
        engine_kwargs["connect_args"] = {"connect_timeout": 10}
    try:
        return RDBStorage(spec, engine_kwargs=engine_kwargs, skip_table_creation=True)
    except Exception as exc:  # the database driver's errors differ by backend
        raise HitlError(f"--storage {where}: cannot open it ({_one_line(exc)}); "
                        "check the URL and that the database is up") from None


def _rated(study: optuna.Study) -> list[FrozenTrial]:
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


_GLYPHS: dict[tuple[int, str], bytes | None] = {}


def _has_glyph(font: ImageFont.ImageFont, ch: str) -> bool:
    if ch.isspace():
        return True
    if ord(ch) > 0xFFFF or 0xFE00 <= ord(ch) <= 0xFE0F or ch == "\u200d":
        return False  # emoji and their modifiers: no plain text font has them
    drawn = _glyph(font, ch)
    return drawn is not None and drawn != _glyph(font, "\U000f0000")  # a private-use character: the font's box


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


def _objective(i: int) -> Callable[[FrozenTrial], float]:
    return lambda t: t.values[i]


def _write_html(figure: Any, path: Path) -> Path:
    figure.write_html(str(path), include_plotlyjs=True, full_html=True)
    return path


def _safe_name(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name).strip(".-_") or "study"


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return mask_secrets(f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__)


if __name__ == "__main__":
    sys.exit(main())
