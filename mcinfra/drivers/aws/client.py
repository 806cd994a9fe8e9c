"""The boto3 session, the one choke point every AWS call goes through, and error mapping.

Imported only by :meth:`AwsDriver.connect`, so ``import mcinfra`` never loads boto3.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotoConnectionError

from mcinfra.core.errors import AlreadyExists, CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.kit import RetryPolicy

log = logging.getLogger("mcinfra.drivers.aws")

PROVIDER = "aws"

#: Codes AWS uses for "already exists" that do not end in ".Duplicate".
_ALREADY_EXISTS = {
    "DuplicateLoadBalancerName",
    "DuplicateTargetGroupName",
    "DuplicateListener",
    "InvalidGroup.Duplicate",
    "InvalidKeyPair.Duplicate",
    "InvalidPermission.Duplicate",
    "RouteAlreadyExists",
    "ResourceAlreadyExists",
}
_NOT_FOUND = {
    "LoadBalancerNotFound",
    "TargetGroupNotFound",
    "ListenerNotFound",
    "InvalidTarget",
    "InvalidAMIID.Malformed",
    "InvalidAMIID.Unavailable",
    "InvalidInstanceID.Malformed",
    "InvalidVpcID.Malformed",
    "InvalidSubnetID.Malformed",
    "InvalidGroupId.Malformed",
}
_IN_USE = {"DependencyViolation", "ResourceInUse", "InvalidGroup.InUse"}
#: operations that change nothing, so a 5xx or a lost connection may be retried
_READS = ("describe_", "get_", "list_")
_THROTTLING = {"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}


def map_client_error(exc: ClientError, what: str = "") -> McInfraError:
    """The mcinfra error for an AWS error response (the caller chains ``exc``)."""
    err = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
    code = str(err.get("Code") or "Unknown")
    message = str(err.get("Message") or code)
    text = f"{what}: {message}" if what else message
    if code.endswith(".NotFound") or code.endswith("NotFound") or code in _NOT_FOUND:
        return NotFound(f"[aws] {code}: {text}")
    if code.endswith(".Duplicate") or code in _ALREADY_EXISTS:
        return AlreadyExists(f"[aws] {code}: {text}")
    if code in _IN_USE:
        return InUse(f"[aws] {code}: {text}")
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return CloudError(PROVIDER, code, text, retryable=status >= 500, throttled=code in _THROTTLING)


def map_error(exc: Exception, what: str = "") -> McInfraError:
    if isinstance(exc, McInfraError):
        return exc
    if isinstance(exc, ClientError):
        return map_client_error(exc, what)
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        # the request may or may not have reached AWS: retried for reads only
        return CloudError(PROVIDER, type(exc).__name__, f"{what}: connection failed" if what else "connection failed",
                          retryable=True)
    if isinstance(exc, ParamValidationError):
        return InvalidRequest(f"[aws] {what}: {exc}" if what else f"[aws] {exc}")
    code = type(exc).__name__
    return CloudError(PROVIDER, code, f"{what}: {exc}" if what else str(exc))


T = TypeVar("T")


class AwsClient:
    """boto3 clients for one connection. Every call goes through :meth:`call`/:meth:`pages`."""

    def __init__(self, info: SessionInfo) -> None:
        self.info = info
        opts = info.options
        self.region = info.region or opts.get("region") or "us-east-1"
        self.zone = info.zone
        self.endpoint_url: str | None = opts.get("endpoint_url") or None
        key_id = info.secret("aws_access_key_id")
        secret = info.secret("aws_secret_access_key")
        token = info.secret("aws_session_token")
        if bool(key_id) != bool(secret):
            raise InvalidRequest("aws credentials need both aws_access_key_id and aws_secret_access_key")
        # No keys given: boto3's own chain (env, shared config, instance profile...) decides.
        kwargs: dict[str, Any] = {"region_name": self.region}
        if key_id:
            kwargs.update(aws_access_key_id=key_id, aws_secret_access_key=secret, aws_session_token=token)
        self.session = boto3.session.Session(**kwargs)
        self.retry = RetryPolicy(attempts=int(opts.get("max_attempts", 5)))
        self.config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},  # the kit's policy retries
            connect_timeout=float(opts.get("connect_timeout", 10)),
            read_timeout=float(opts.get("read_timeout", 60)),
        )
        self._clients: dict[tuple[str, str], Any] = {}
        # boto3 clients are thread-safe, but making them from one session is not.
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.session.client(
                    service, region_name=key[1], endpoint_url=self.endpoint_url, config=self.config
                )
        return self._clients[key]

    @property
    def ec2(self) -> Any:
        return self.client("ec2")

    @property
    def elbv2(self) -> Any:
        return self.client("elbv2")

    def call(self, service: str, op: str, *, what: str = "", region: str | None = None, **params: Any) -> Any:
        """One AWS API call; raises only mcinfra errors. Parameters are never logged (secrets)."""
        fn: Callable[..., Any] = getattr(self.client(service, region), op)
        started = time.perf_counter()

        def once() -> Any:
            try:
                return fn(**params)
            except McInfraError:
                raise
            except Exception as exc:  # botocore raises a few non-BotoCoreError types (ResponseParserError...)
                raise map_error(exc, what or op) from exc

        try:
            out = self.retry.run(once, idempotent=op.startswith(_READS), what=f"{service}.{op}")
        except McInfraError as mapped:
            log.debug(
                "aws %s.%s failed after %.1f ms: %s",
                service,
                op,
                (time.perf_counter() - started) * 1000,
                type(mapped).__name__,
            )
            raise
        log.debug("aws %s.%s ok in %.1f ms", service, op, (time.perf_counter() - started) * 1000)
        return out

    def pages(
        self, service: str, op: str, key: str, *, limit: int | None = None, what: str = "", **params: Any
    ) -> Iterator[Any]:
        """Items under ``key`` across every page of ``op`` (NextToken/Marker), at most ``limit``."""
        token_in, token_out = ("Marker", "NextMarker") if service == "elbv2" else ("NextToken", "NextToken")
        count = 0
        token: str | None = None
        while True:
            call_params = dict(params)
            if token:
                call_params[token_in] = token
            page = self.call(service, op, what=what, **call_params)
            for item in page.get(key, []):
                yield item
                count += 1
                if limit is not None and count >= limit:
                    return
            token = page.get(token_out)
            if not token:
                return

    def close(self) -> None:
        for c in self._clients.values():
            close = getattr(c, "close", None)
            if close:
                close()
        self._clients.clear()


def name_tag(tags: list[dict[str, str]] | None, default: str = "") -> str:
    for t in tags or []:
        if t.get("Key") == "Name":
            return t.get("Value", "")
    return default


def tag_spec(resource_type: str, name: str) -> list[dict[str, Any]]:
    return [{"ResourceType": resource_type, "Tags": [{"Key": "Name", "Value": name}]}]


def cleanup(steps: list[Callable[[], Any]]) -> None:
    """Undo a half-made create, newest first; errors are logged, the original failure wins."""
    for step in reversed(steps):
        try:
            step()
        except Exception as exc:  # the create's own error is what the caller must see
            log.warning("aws cleanup step failed: %s", type(exc).__name__)
