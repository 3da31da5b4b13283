"""Generators: turn suggested parameters into an output a person rates."""

from hitl.generators._base import Generator
from hitl.generators.color import ColorGenerator
from hitl.generators.photo import PhotoGenerator
from hitl.generators.speech import SpeechGenerator
from hitl.generators.synth import SynthGenerator


__all__ = ["ColorGenerator", "Generator", "PhotoGenerator", "SpeechGenerator", "SynthGenerator"]
