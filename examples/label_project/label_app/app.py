"""The app's own entry: hitl's groups (installed with hitl) composed with this app's conf/.

Run it as ``label-app [group=option ...] [key=value ...]`` or ``python -m label_app.app``;
``--help`` lists hitl's groups with this app's options among them.
"""

from __future__ import annotations

from pathlib import Path
import sys

import hydra
from omegaconf import DictConfig

import hitl


CONF = Path(__file__).parent / "conf"


@hydra.main(version_base="1.3", config_path="conf", config_name="label")
def _app(cfg: DictConfig) -> None:
    hitl.main(cfg)  # the loop, dashboard and results, as with the hitl command


def main() -> None:
    hitl.register_configs()  # hitl's knobs' schema (hitl_schema in hitl's config)
    hitl.check_overrides(sys.argv[1:], config_dir=CONF, config_name="label")  # a typo: one line, exit 2
    _app()


if __name__ == "__main__":
    main()
