"""Puts hitl's config groups on the search path of every Hydra app where hitl is installed.

Hydra imports every module of the ``hydra_plugins`` namespace when an app starts, so this one
imports nothing but Hydra's plugin base class. The groups (``sampler``, ``widget``, ``storage``,
``generator``, ``artifacts``, ``evaluator``, ``+experiment``) and hitl's base config ``config``
come after the app's own config folder: an option the app defines under the same name wins.
"""

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class HitlSearchPathPlugin(SearchPathPlugin):
    """Appends ``pkg://hitl.conf`` (``conf/`` of the repository, packaged as ``hitl.conf``)."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        search_path.append(provider="hitl", path="pkg://hitl.conf")
