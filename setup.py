"""Packaging that pyproject.toml cannot say: ``conf/`` stays at the top of the repository and ships as ``hitl.conf``."""

from setuptools import find_namespace_packages
from setuptools import setup


_GROUPS = [f"hitl.conf.{p}" for p in find_namespace_packages(where="conf")]  # conf/sampler -> hitl.conf.sampler

setup(
    packages=[*find_namespace_packages(include=["hitl", "hitl.*", "hydra_plugins.*"]), "hitl.conf", *_GROUPS],
    package_dir={"hitl.conf": "conf"},
    package_data={
        "hitl.conf": ["*.yaml"],
        **{group: ["*.yaml"] for group in _GROUPS},
        "hitl.generators": ["data/*"],  # the photo of generator=photo and its licence
        "hitl.server._rating": ["static/*"],  # the rating view's page, script and style
        "hitl.server._compare": ["static/*"],  # the comparison view's page and script
    },
)
