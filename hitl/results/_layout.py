"""Where everything goes on a contact sheet: cells in a grid under a header."""

from __future__ import annotations

from dataclasses import dataclass
import math


__all__ = ["BEST_COLOUR", "BORDER", "GAP", "SheetLayout"]

BORDER = 6  # px: the frame around each best trial's output
BEST_COLOUR = (255, 0, 255)  # magenta: stands out from photos and from sunset colours alike
GAP = 10  # px between cells and around the sheet

_MIN_WIDTH = 480


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
