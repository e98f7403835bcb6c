"""boto3 clients with the retry behaviour every adapter shares."""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import boto3
import botocore.session
from botocore.config import Config
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ProfileNotFound,
)
from botocore.loaders import Loader, create_loader

# Standard mode retries throttling and transient errors with backoff; DynamoDB transaction
# conflicts are not among them and are retried by the store itself.
RETRY_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8}, connect_timeout=5, read_timeout=30)


@contextlib.contextmanager
def profile(name: str | None) -> Iterator[None]:
    """Every session made inside, in any thread, uses the named profile of the AWS configuration
    (`--profile`: set as AWS_PROFILE, as the AWS CLI does, and restored after)."""
    before = os.environ.get("AWS_PROFILE")
    if name:
        os.environ["AWS_PROFILE"] = name
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("AWS_PROFILE", None)
        else:
            os.environ["AWS_PROFILE"] = before


def region_of(session: boto3.session.Session) -> str | None:
    """The region as the AWS CLI finds it: AWS_REGION (which boto3 itself does not read), else the
    session's (AWS_DEFAULT_REGION, then the profile's `region`)."""
    return os.environ.get("AWS_REGION") or session.region_name or None


@functools.cache
def shared_loader(data_path: str | None) -> Loader:
    """Parsed service models and endpoints, shared by every session of the process: a new session would parse
    them again (about 20 ms a service; the CLI and the embedded stack make a session per client)."""
    return create_loader(data_path)


def new_session() -> boto3.session.Session:
    """A boto3 session (its own credentials, profile and region) reading the process's shared service models."""
    core = botocore.session.Session()
    core.register_component("data_loader", shared_loader(core.get_config_variable("data_path")))
    return boto3.session.Session(botocore_session=core)


def client(
    service: str,
    endpoint_url: str | None = None,
    region_name: str | None = None,
    session: boto3.session.Session | None = None,
    attempts: int | None = None,
) -> Any:
    """A client for `service`; `endpoint_url` (or AWS_ENDPOINT_URL) points it at an embedded AWS. Many
    clients from one `session` share its parsed service models (not thread-safe: create them in one thread).
    `attempts` instead of RETRY_CONFIG's 8 (an emulator's answer does not change when asked again)."""
    session = session or new_session()
    config = RETRY_CONFIG
    if attempts:
        config = config.merge(Config(retries={"mode": "standard", "max_attempts": attempts}))
    region = region_name or region_of(session)
    return session.client(service, endpoint_url=endpoint_url, region_name=region, config=config)


AWS_ERRORS = (BotoCoreError, ClientError)


@functools.cache
def _aws_domains() -> tuple[str, ...]:
    """The DNS suffixes of every AWS partition (amazonaws.com, api.aws, amazonaws.com.cn, ...), from botocore."""
    partitions = botocore.session.get_session().get_component("data_loader").load_data("partitions")
    outputs = [partition["outputs"] for partition in partitions["partitions"]]
    return tuple(sorted({found[name] for found in outputs for name in ("dnsSuffix", "dualStackDnsSuffix")}))


def emulated_endpoint(aws_client: Any) -> str | None:
    """The client's endpoint URL when it is not AWS's own (moto, LocalStack, a proxy...), else None."""
    url = aws_client.meta.endpoint_url
    host = urlsplit(url).hostname or ""
    return None if any(host == domain or host.endswith("." + domain) for domain in _aws_domains()) else url


def error_code(error: ClientError) -> str:
    """The service's error code of a ClientError (empty when it has none)."""
    return error.response.get("Error", {}).get("Code", "")


def explain(error: BotoCoreError | ClientError) -> str:
    """One line a person can act on, for the errors the CLI meets most."""
    if isinstance(error, NoCredentialsError):
        return "no AWS credentials found (set a profile, environment variables or an SSO login)"
    if isinstance(error, NoRegionError):
        return "no AWS region configured (pass --region, set AWS_REGION or AWS_DEFAULT_REGION, or give the profile one)"
    if isinstance(error, ProfileNotFound):
        return f"profile {error.kwargs.get('profile', '?')} not found in the AWS configuration (~/.aws/config)"
    if isinstance(error, EndpointConnectionError):
        endpoint = error.kwargs.get("endpoint_url", "the endpoint")
        return f"cannot reach {endpoint}: is the region or endpoint right?"
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        message = " ".join(str(details.get("Message", "")).split())  # one line, whatever the endpoint sent
        if message.startswith("<"):  # an HTML error page: what an emulator answers for an operation it lacks
            message = "the endpoint answered with an HTML error page (does it implement this operation?)"
        return f"{error.operation_name} failed: {details.get('Code', '?')}: {message}"
    return str(error)
