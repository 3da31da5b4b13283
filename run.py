"""Run hitl: python run.py [group=option ...] [key=value ...]; python run.py --help lists them."""

import hydra
from omegaconf import DictConfig

import hitl


hitl.register_configs()


@hydra.main(version_base="1.3", config_path="conf", config_name="config")
def main(cfg: DictConfig) -> None:
    hitl.main(cfg)


if __name__ == "__main__":
    main()
