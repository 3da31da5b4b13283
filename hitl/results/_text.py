"""Text on a contact sheet: labels cut to fit, glyphs the font lacks dropped, a cell naming a file."""

from __future__ import annotations

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont


__all__ = ["TEXT_COLOUR", "fit", "load_font", "printable", "text_cell"]

TEXT_COLOUR = (20, 20, 20)
_NO_IMAGE = (190, 190, 190)  # the grey cell of an output that is not an image


def text_cell(text: str, side: int, font: ImageFont.ImageFont) -> Image.Image:
    cell = Image.new("RGB", (side, side), _NO_IMAGE)
    draw = ImageDraw.Draw(cell)
    lines = _wrap(text, font, side - 8)[:4]
    line_height = _text_size(font, "Ag")[1] + 4
    top = (side - line_height * len(lines)) // 2
    for i, line in enumerate(lines):
        width = _text_size(font, line)[0]
        draw.text(((side - width) // 2, top + i * line_height), line, font=font, fill=TEXT_COLOUR)
    return cell


def _wrap(text: str, font: ImageFont.ImageFont, width: int) -> list[str]:
    text = printable(text, font)
    lines, line = [], ""
    for ch in text:
        if _text_size(font, line + ch)[0] > width and line:
            lines.append(line)
            line = ch
        else:
            line += ch
    return [*lines, line] if line else lines


def fit(text: str, font: ImageFont.ImageFont, width: int) -> str:
    """``text`` without glyphs the font lacks, cut with an ellipsis to ``width`` pixels."""
    text = printable(text, font)
    if _text_size(font, text)[0] <= width:
        return text
    while text and _text_size(font, text + "\u2026")[0] > width:
        text = text[:-1]
    return text + "\u2026"


def printable(text: str, font: ImageFont.ImageFont) -> str:
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


def load_font(size: int, *, bold: bool = False) -> ImageFont.ImageFont:
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
