"""Where attachment files live, so that any API host can serve any file: a local folder or an S3-compatible store.

The KOTAKU_STORAGE setting picks the backend for new files: `local` (default; the KOTAKU_ATTACHMENTS folder, right
for one machine or a folder every host mounts) or `s3` (a bucket of an S3-compatible object store: AWS S3,
SeaweedFS, MinIO, Ceph; KOTAKU_S3_* settings). A file is named by its SHA-256, so a key never changes meaning and
a second upload of the same bytes writes nothing new. The location recorded in `activity_attachments.stored_path`
says where a file is: a path for the folder, `s3://bucket/key` for the store; reads follow the location, so files
stored before a switch to `s3` stay readable where they are.
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any, Protocol

from geo.errors import NotFound, ServiceUnavailable
from layers.settings import Settings

S3_SCHEME = "s3://"


class FileStore(Protocol):
    def put(self, key: str, content: bytes, media_type: str) -> str:
        """Store `content` under `key` (written whole or not at all); returns its location."""

    def get(self, location: str) -> bytes:
        """The bytes at a location this store returned."""


class LocalStore:
    """A folder: `<root>/<key>`, written to a temporary name first and renamed, so a reader never sees half a file."""

    def __init__(self, root: Path):
        self.root = root

    def put(self, key: str, content: bytes, media_type: str) -> str:
        path = self.root / key
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            temporary = path.with_suffix(".part")
            temporary.write_bytes(content)
            temporary.replace(path)
        return str(path)

    def get(self, location: str) -> bytes:
        try:
            return Path(location).read_bytes()
        except FileNotFoundError as exc:
            raise NotFound("the stored file is missing") from exc


class S3Store:
    """A bucket of an S3-compatible object store, through boto3 (one PUT per file; S3 writes are atomic)."""

    def __init__(self, client: Any, bucket: str):
        self.client = client
        self.bucket = bucket

    def put(self, key: str, content: bytes, media_type: str) -> str:
        try:
            self.client.put_object(Bucket=self.bucket, Key=key, Body=content, ContentType=media_type)
        except Exception as exc:  # botocore's errors (connection, credentials, no bucket) have no common base
            raise ServiceUnavailable(f"the object store refused the file: {exc}") from exc
        return f"{S3_SCHEME}{self.bucket}/{key}"

    def get(self, location: str) -> bytes:
        bucket, _, key = location.removeprefix(S3_SCHEME).partition("/")
        try:
            return self.client.get_object(Bucket=bucket, Key=key)["Body"].read()
        except self.client.exceptions.NoSuchKey as exc:
            raise NotFound("the stored file is missing") from exc
        except Exception as exc:
            raise ServiceUnavailable(f"the object store could not be read: {exc}") from exc


@functools.lru_cache(maxsize=8)
def _s3_client(endpoint_url: str | None, access_key_id: str | None, secret: str | None, region: str) -> Any:
    """One boto3 client per configuration and process (making one costs tens of ms; clients are thread-safe)."""
    import boto3  # imported here: only the s3 backend needs it, and it takes ~0.3 s
    from botocore.config import Config

    return boto3.client("s3", endpoint_url=endpoint_url, aws_access_key_id=access_key_id,
                        aws_secret_access_key=secret, region_name=region,
                        config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 3},
                                      connect_timeout=5, read_timeout=30))


def s3_store(settings: Settings) -> S3Store:
    secret = settings.s3_secret_access_key.get_secret_value() if settings.s3_secret_access_key else None
    return S3Store(_s3_client(settings.s3_endpoint_url, settings.s3_access_key_id, secret, settings.s3_region),
                   settings.s3_bucket)


def file_store(settings: Settings) -> FileStore:
    """The store new files go to (the KOTAKU_STORAGE setting)."""
    return s3_store(settings) if settings.storage == "s3" else LocalStore(settings.attachments_dir)


def read_file(location: str, settings: Settings) -> bytes:
    """The bytes at a recorded location, whichever backend wrote them."""
    if location.startswith(S3_SCHEME):
        return s3_store(settings).get(location)
    return LocalStore(settings.attachments_dir).get(location)


def file_key(sha256: str, extension: str) -> str:
    """`ab/abcdef....jpg`: the first two hex digits as a folder keep folders small."""
    return f"{sha256[:2]}/{sha256}.{extension}"
