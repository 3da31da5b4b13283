"""Run hitl: python run.py [group=option ...] [key=value ...]; python run.py --help lists them."""

from pathlib import Path
import sys

import hydra
from omegaconf import DictConfig

import hitl


hitl.register_configs()


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hitl.main(cfg)


if __name__ == "__main__":
    hitl.check_overrides(sys.argv[1:], config_dir=Path(__file__).parent / "conf")  # a typo: one line, exit 2
    main()
