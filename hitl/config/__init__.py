"""The configuration: hitl's knobs' schema, the check of command-line overrides, the builders
that turn config nodes into objects (one-line errors naming the key), and the logging filter
that keeps passwords out of logs and saved configs.
"""

from hitl.config._build import build
from hitl.config._cli import check_overrides
from hitl.config._files import disk_full
from hitl.config._files import full_storage_message
from hitl.config._logging import MaskSecrets
from hitl.config._logging import scrub_saved_configs
from hitl.config._schema import DashboardConfig
from hitl.config._schema import HitlConfig
from hitl.config._schema import register_configs
from hitl.config._storage import build_storage
from hitl.config._storage import describe_storage


__all__ = [
    "DashboardConfig",
    "HitlConfig",
    "MaskSecrets",
    "build",
    "build_storage",
    "check_overrides",
    "describe_storage",
    "disk_full",
    "full_storage_message",
    "register_configs",
    "scrub_saved_configs",
]
