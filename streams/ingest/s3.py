"""Objects under a prefix of an S3 bucket (AWS, or any S3 API through ``endpoint_url``).

An S3 object is complete once it is listed (a PUT is atomic), so there is no partial-object
rule. Each object is checkpointed like a dropped file, by ``s3://bucket/key``, size and
content hash (its ETag is the cheap change stamp): it is published once, resumed after its
last acknowledged row after a crash, and published again only if its content changes.
"""

from __future__ import annotations

import tempfile
from pathlib import Path, PurePosixPath
from typing import Any

from streams.ingest.context import SourceContext, SourceError
from streams.ingest.drops import file_entry, ingest_file, is_done
from streams.ingest.settle import is_candidate


class S3Objects:
    def __init__(
        self,
        bucket: str,
        *,
        prefix: str = "",
        pattern: str = "*",
        endpoint_url: str | None = None,
        region: str | None = None,
        credentials: dict[str, str] | None = None,
    ) -> None:
        self.bucket = bucket
        self.prefix = prefix
        self.pattern = pattern
        self.endpoint_url = endpoint_url
        self.region = region
        self._credentials = credentials or {}  # secrets: never logged or reported

    def client(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            config=Config(retries={"max_attempts": 5, "mode": "standard"}),
            **self._credentials,
        )

    def _listing(self, client: Any) -> list[dict[str, Any]]:
        objects = []
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix
        ):
            for item in page.get("Contents", []):
                if is_candidate(PurePosixPath(item["Key"]).name, self.pattern):
                    objects.append(item)
        return sorted(objects, key=lambda o: o["Key"])

    def identity(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"

    def poll(self, ctx: SourceContext, *, once: bool) -> None:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            client = self.client()
            listing = self._listing(client)
            todo = [
                o
                for o in listing
                if not is_done(ctx, file_entry(self.identity(o["Key"])), o["Size"], o["ETag"])
            ]
            ctx.metrics.backlog(len(todo))
            with tempfile.TemporaryDirectory(prefix="greenai-s3-") as tmp:
                for left, item in enumerate(todo, start=1):
                    key = item["Key"]
                    local = Path(tmp) / f"object{PurePosixPath(key).suffix}"
                    client.download_file(self.bucket, key, str(local))
                    summary = ingest_file(
                        ctx,
                        local,
                        label=self.identity(key),
                        identity=self.identity(key),
                        version=item["ETag"],
                        skip_done=True,
                    )
                    local.unlink()
                    if summary is not None:
                        ctx.report(summary)
                    ctx.metrics.backlog(len(todo) - left)
        except (BotoCoreError, ClientError) as exc:
            raise SourceError(f"s3://{self.bucket}/{self.prefix}: {exc}") from exc
