"""The boto3 session, the one choke point every AWS call goes through, and error mapping.

Imported only by :meth:`AwsDriver.connect`, so ``import mcinfra`` never loads boto3.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError, HTTPClientError, ParamValidationError
from botocore.exceptions import ConnectionError as BotoConnectionError

from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.aws.options import AwsOptions
from mcinfra.drivers.kit import ErrorTable, describe_one, paginate

log = logging.getLogger("mcinfra.drivers.aws")

PROVIDER = "aws"

#: AWS error codes -> mcinfra errors; any code ending in "NotFound" is NotFound, ".Duplicate" AlreadyExists.
ERRORS = ErrorTable(
    PROVIDER,
    not_found=frozenset({
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
    }),
    already_exists=frozenset({
        "DuplicateLoadBalancerName",
        "DuplicateTargetGroupName",
        "DuplicateListener",
        "InvalidGroup.Duplicate",
        "InvalidKeyPair.Duplicate",
        "InvalidPermission.Duplicate",
        "RouteAlreadyExists",
        "ResourceAlreadyExists",
    }),
    in_use=frozenset({"DependencyViolation", "ResourceInUse", "InvalidGroup.InUse"}),
    throttled=frozenset({"Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequestsException"}),
    # the Price List API's server-side failure (its model's InternalErrorException, HTTP 500)
    transient=frozenset({"InternalErrorException"}),
    suffixes={"NotFound": NotFound, ".Duplicate": AlreadyExists},
)
#: operations that change nothing, so a 5xx or a lost connection may be retried
_READS = ("describe_", "get_", "list_")


def map_client_error(exc: ClientError, what: str = "") -> McInfraError:
    """The mcinfra error for an AWS error response (the caller chains ``exc``)."""
    err = exc.response.get("Error", {}) if hasattr(exc, "response") else {}
    code = str(err.get("Code") or "Unknown")
    message = str(err.get("Message") or code)
    text = f"{what}: {message}" if what else message
    status = int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)
    return ERRORS.error(code, text, status=status or None)


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


class AwsClient:
    """boto3 clients for one connection. Every call goes through :meth:`call`/:meth:`pages`."""

    def __init__(self, info: SessionInfo, options: AwsOptions) -> None:
        self.info = info
        self.options = options
        self.region = info.region or options.region or "us-east-1"
        self.zone = info.zone
        self.endpoint_url: str | None = options.endpoint_url or None
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
        self.retry = options.retry_policy(PROVIDER, self.region)
        self.config = Config(
            retries={"mode": "standard", "total_max_attempts": 1},  # the kit's policy retries
            connect_timeout=options.connect_timeout,
            read_timeout=options.read_timeout,
        )
        self._clients: dict[tuple[str, str], Any] = {}
        # boto3 clients are thread-safe, but making them from one session is not.
        self._lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        key = (service, region or self.region)
        # The Price List API is its own endpoint (a few regions only). A connection pointed at a
        # test endpoint sends its Price List calls there too unless told otherwise: nothing it
        # does may reach the real AWS by surprise.
        endpoint = (self.options.pricing_endpoint_url or self.endpoint_url) if service == "pricing" \
            else self.endpoint_url
        with self._lock:
            if key not in self._clients:
                self._clients[key] = self.session.client(
                    service, region_name=key[1], endpoint_url=endpoint or None, config=self.config
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

        def page(token: str | None) -> tuple[list[Any], str | None]:
            out = self.call(service, op, what=what, **(params | {token_in: token} if token else params))
            return out.get(key, []), out.get(token_out) or None

        return paginate(page, limit=limit)

    def describe(
        self, service: str, op: str, key: str, *, what: str, not_found_codes: tuple[str, ...] = (), **params: Any
    ) -> Any:
        """The one item a describe-by-id answers under ``key``; ``NotFound`` naming ``what`` when it
        answers none, or refuses with one of ``not_found_codes`` (AWS calls some unknown ids invalid)."""
        try:
            out = self.call(service, op, what=what, **params)[key]
        except CloudError as exc:
            if exc.code in not_found_codes:
                raise NotFound(f"[aws] {what} not found") from exc
            raise
        return describe_one(out, f"[aws] {what}")

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
