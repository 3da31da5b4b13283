"""Generators: turn suggested parameters into an output a person rates."""

from hitl.generators._base import Generator
from hitl.generators.color import ColorGenerator


__all__ = ["ColorGenerator", "Generator"]
