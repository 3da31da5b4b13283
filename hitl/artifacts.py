"""Artifact stores with behaviour optuna's lacks."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import BinaryIO

from optuna.artifacts import Boto3ArtifactStore
from optuna.artifacts import FileSystemArtifactStore as _OptunaFileSystemArtifactStore

from hitl._errors import HitlError
from hitl._errors import mask_url


__all__ = ["FileSystemArtifactStore", "S3ArtifactStore"]


class FileSystemArtifactStore(_OptunaFileSystemArtifactStore):
    """Optuna's file-system store, checked at start and creating its folder on first write.

    Creating the folder lazily means a run that fails on bad input leaves no empty folder;
    checking at start means an unwritable path fails before any trial is made.

    Args:
        base_path: The folder; ``optuna-dashboard --artifact-dir`` takes the same path.
    """

    def __init__(self, *, base_path: str | Path) -> None:
        path = Path(base_path).expanduser().absolute()
        existing = path
        while not existing.exists():
            existing = existing.parent
        if existing != path and not existing.is_dir():
            raise HitlError(f"artifacts.base_path={base_path}: {existing} is a file, not a folder")
        if path.exists() and not path.is_dir():
            raise HitlError(f"artifacts.base_path={base_path}: it is a file; give a folder path")
        try:  # a real write: permission bits say nothing for root or on a read-only mount
            fd, probe = tempfile.mkstemp(dir=existing, prefix=".hitl-write-check-")
            os.close(fd)
            os.unlink(probe)
        except OSError:
            raise HitlError(f"artifacts.base_path={base_path}: {existing} is not writable; give a writable folder") from None
        super().__init__(base_path=path)

    @property
    def base_path(self) -> Path:
        return self._base_path

    def write(self, artifact_id: str, content_body: BinaryIO) -> None:
        self._base_path.mkdir(parents=True, exist_ok=True)
        try:
            super().write(artifact_id, content_body)
        except BaseException:
            # a partial file (a full disk, an interrupted copy) is no output, and no trial would record it
            (self._base_path / artifact_id).unlink(missing_ok=True)
            raise


class S3ArtifactStore(Boto3ArtifactStore):
    """Optuna's Boto3 store on one bucket, checked at start instead of at the first upload.

    Workers on several machines share outputs through it; credentials come from boto3's
    usual places (environment, ``~/.aws``), never from the config.

    Args:
        bucket_name: The bucket; it must exist.
        endpoint_url: An S3-compatible server (MinIO, moto...); ``None`` for AWS itself.
    """

    def __init__(self, *, bucket_name: str, endpoint_url: str | None = None) -> None:
        try:
            import boto3  # noqa: PLC0415 - only this option needs it
            from botocore.exceptions import BotoCoreError  # noqa: PLC0415
            from botocore.exceptions import ClientError  # noqa: PLC0415
        except ImportError as exc:
            raise HitlError(
                "artifacts=s3 needs boto3, not installed here: pip install -e '.[s3]' in the hitl folder, "
                "or pip install boto3 (or pick artifacts=filesystem)"
            ) from exc

        client = boto3.client("s3", endpoint_url=endpoint_url or None)
        try:
            client.head_bucket(Bucket=bucket_name)
        except (BotoCoreError, ClientError) as exc:
            where = f" at {mask_url(endpoint_url)}" if endpoint_url else ""
            raise HitlError(
                f"artifacts.bucket_name={bucket_name}: cannot use the bucket{where} ({str(exc).splitlines()[0]}); "
                "create it, or fix HITL_S3_BUCKET / HITL_S3_ENDPOINT_URL and the AWS credentials"
            ) from None
        # avoid_buf_copy: boto3 may close the source file while optuna still reads it
        super().__init__(bucket_name, client, avoid_buf_copy=True)
