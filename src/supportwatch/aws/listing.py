"""Listing log objects in S3: delimiter listings to find folders, plain listings of a folder's keys."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from supportwatch.models import ObjectRef


class S3Listing:
    """ListObjectsV2, paginated (the layout walk's `Lister`, and the keys of each date folder)."""

    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def folders(self, bucket: str, prefix: str) -> list[str]:
        pages = self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix, Delimiter="/")
        return [found["Prefix"] for page in pages for found in page.get("CommonPrefixes", [])]

    def objects(self, bucket: str, prefix: str) -> Iterator[ObjectRef]:
        for page in self._s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
            for found in page.get("Contents", []):
                yield ObjectRef(bucket, found["Key"], size=found["Size"])
