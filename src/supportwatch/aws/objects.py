"""Reading log objects from S3."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import ClientError

from supportwatch.aws.clients import error_code
from supportwatch.models import ObjectRef
from supportwatch.pipeline import ObjectUnavailable

# Errors that a retry cannot fix: the object is gone, or we may not read or decrypt it.
PERMANENT_ERRORS = {
    "NoSuchKey": "object no longer exists",
    "NoSuchBucket": "bucket does not exist",
    "NoSuchVersion": "object version no longer exists",
    "AccessDenied": "access denied on the object",
    "KMS.AccessDeniedException": "access denied on the KMS key",
    "KMS.DisabledException": "the KMS key is disabled",
    "InvalidObjectState": "object is archived",
}


class S3Objects:
    """Fetches whole objects (the pipeline's `Fetch`)."""

    def __init__(self, s3_client: Any) -> None:
        self._s3 = s3_client

    def read(self, ref: ObjectRef) -> bytes:
        request = {"Bucket": ref.bucket, "Key": ref.key}
        if ref.version_id:
            request["VersionId"] = ref.version_id
        try:
            return self._s3.get_object(**request)["Body"].read()
        except ClientError as error:
            code = error_code(error)
            if code in PERMANENT_ERRORS:
                raise ObjectUnavailable(f"{PERMANENT_ERRORS[code]} ({code})") from None
            raise
