"""The s3 artifacts option against an S3-compatible server on this machine (moto's server mode)."""

from __future__ import annotations

from collections.abc import Callable
from collections.abc import Iterator
import io
import json
import urllib.request

from omegaconf import DictConfig
import optuna
from PIL import Image
import pytest

import hitl
from hitl.config import build
from hitl.config import build_storage
from hitl.server import EmbeddedDashboard
from tests.conftest import free_port
from tests.conftest import TUTORIAL
from tests.conftest import waiting_trials


boto3 = pytest.importorskip("boto3")
moto_server = pytest.importorskip("moto.server")


@pytest.fixture
def s3_endpoint(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A moto S3 server on a free loopback port with an empty bucket ``hitl-test``."""
    for key, value in {"AWS_ACCESS_KEY_ID": "test", "AWS_SECRET_ACCESS_KEY": "test",
                       "AWS_DEFAULT_REGION": "us-east-1"}.items():
        monkeypatch.setenv(key, value)
    port = free_port()
    server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    url = f"http://127.0.0.1:{port}"
    try:
        boto3.client("s3", endpoint_url=url).create_bucket(Bucket="hitl-test")
        yield url
    finally:
        server.stop()


def test_outputs_go_to_the_bucket_and_the_dashboard_serves_them(
    s3_endpoint: str, make_cfg: Callable[..., DictConfig]
) -> None:
    cfg = make_cfg(TUTORIAL, "artifacts=s3", "artifacts.bucket_name=hitl-test",
                   f"artifacts.endpoint_url={s3_endpoint}", "timeout=3")
    assert hitl.run(cfg).waiting == 4
    keys = [o["Key"] for o in boto3.client("s3", endpoint_url=s3_endpoint).list_objects_v2(Bucket="hitl-test")["Contents"]]
    assert len(keys) == 4
    storage = build_storage(cfg.storage)
    study = optuna.load_study(study_name="tutorial-choice", storage=storage)
    (trial, *_) = waiting_trials(storage, study._study_id)
    (meta,) = [json.loads(v) for k, v in trial.system_attrs.items() if k.startswith("artifacts:")]
    assert meta["artifact_id"] in keys
    dashboard = EmbeddedDashboard(storage=storage, artifact_store=build(cfg.artifacts, "artifacts"),
                                  host="127.0.0.1", port=free_port()).start()
    try:
        url = f"{dashboard.url}/artifacts/{study._study_id}/{trial._trial_id}/{meta['artifact_id']}"
        with urllib.request.urlopen(url, timeout=10) as res:
            image = Image.open(io.BytesIO(res.read()))
    finally:
        dashboard.stop()
    assert image.size == (320, 240) and image.getpixel((0, 0)) == tuple(trial.params[c] for c in "rgb")


def test_a_missing_bucket_is_one_clear_error_before_anything_is_written(
    s3_endpoint: str, make_cfg: Callable[..., DictConfig], tmp_path
) -> None:
    cfg = make_cfg(TUTORIAL, "artifacts=s3", "artifacts.bucket_name=no-such-bucket", f"artifacts.endpoint_url={s3_endpoint}")
    with pytest.raises(hitl.HitlError, match="artifacts.bucket_name=no-such-bucket: cannot use the bucket"):
        hitl.run(cfg)
    assert not (tmp_path / "hitl.db").exists()
