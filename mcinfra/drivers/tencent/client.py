"""The Tencent session: credentials, the CVM/VPC/CLB SDK clients, and the one choke point every
API call goes through (:meth:`TencentClient.call`), where SDK exceptions become mcinfra errors
through :data:`ERRORS` and the kit's :class:`RetryPolicy` retries (the SDK's own retryer is left
off: ``ClientProfile(retryer=None)`` is its no-op retryer).

API 3.0 answers every error as HTTP 200 with ``Response.Error`` {Code, Message}; the SDK raises
``TencentCloudSDKException(code, message, request_id)`` for it, and for its own failures
(``ClientNetworkError``, ``ServerNetworkError`` for a non-200 answer, ``ClientError``).
"""

from __future__ import annotations

import importlib
import json
import logging
import time
from collections.abc import Callable
from typing import Any

from mcinfra.core.errors import AlreadyExists, CloudError, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.kit import ErrorTable, paginate, poll_until
from mcinfra.drivers.tencent.options import TencentOptions

log = logging.getLogger("mcinfra.drivers.tencent")

PROVIDER = "tencent"
#: service -> (SDK package, client class); versions: CVM/VPC 2017-03-12, CLB 2018-03-17
SERVICES = {
    "cvm": ("tencentcloud.cvm.v20170312", "CvmClient"),
    "vpc": ("tencentcloud.vpc.v20170312", "VpcClient"),
    "clb": ("tencentcloud.clb.v20180317", "ClbClient"),
}
#: the documented codes (errorcodes.py of each SDK package + the common list) the driver acts on
ERRORS = ErrorTable(
    PROVIDER,
    not_found=frozenset({
        "ResourceNotFound", "InvalidVpcId.NotFound", "InvalidInstanceId.NotFound", "InvalidKeyPairId.NotFound",
        "InvalidSecurityGroupId.NotFound", "InvalidSecurityGroupID.NotFound", "InvalidParameter.LBIdNotFound",
        "InvalidParameter.ListenerIdNotFound", "InvalidParameterValue.VpcIdNotExist",
        "InvalidParameterValue.SubnetNotExist", "InvalidParameterValue.KeyPairNotFound",
        "ResourceNotFound.InvalidInstanceIdNotFound", "ResourceNotFound.KeyPairNotFound",
        "InvalidParameterValue.ResourceNotFound", "InvalidParameterValue.ResourceNotExisted",
        # a malformed id names nothing that exists (register of a made-up id)
        "InvalidInstanceId.Malformed", "InvalidKeyPairId.Malformed",
        "InvalidVpcId.Malformed", "InvalidSecurityGroupID.Malformed", "InvalidSgId.Malformed",
    }),
    already_exists=frozenset({
        "InvalidKeyPairName.Duplicate", "InvalidPublicKey.Duplicate", "UnsupportedOperation.DuplicatePolicy",
        "InvalidParameterValue.Duplicate",
    }),
    in_use=frozenset({"ResourceInUse", "UnsupportedOperation.InstancesProtected"}),
    # refused without acting: safe to try again on any call
    throttled=frozenset({
        "RequestLimitExceeded", "FailedOperation.RateLimitExceeded", "FailedOperation.ResourceInOperating",
        "OperationDenied.InstanceOperationInProgress",
    }),
    transient=frozenset({
        "InternalError", "InternalServerError", "ServerNetworkError", "ClientNetworkError", "ResourceUnavailable",
        "FailedOperation.RequestTimeout",
    }),
    suffixes={".NotFound": NotFound, ".Duplicate": AlreadyExists},
    use_status=False,
)
#: CLB DescribeTaskStatus.Status values
TASK_SUCCEEDED, TASK_FAILED, TASK_RUNNING = 0, 1, 2
#: the largest Limit the Describe* actions take
PAGE_LIMIT = 100


class TencentClient:
    def __init__(self, info: SessionInfo, options: TencentOptions) -> None:
        if not info.region:
            raise InvalidRequest("a tencent connection needs a region (e.g. ap-guangzhou)", field="region")
        self.region: str = info.region
        self.zone: str | None = info.zone
        self.options = options
        self.retry = options.retry_policy(PROVIDER, self.region)
        self._credential = _credential(info)
        #: (service, region) -> SDK client, made on first use
        self._clients: dict[tuple[str, str], Any] = {}
        self._models = {s: importlib.import_module(f"{package}.models") for s, (package, _) in SERVICES.items()}
        #: calls made through this session (service.Action -> count), for figures and tests
        self.calls: dict[str, int] = {}

    def _client(self, service: str, region: str) -> Any:
        client = self._clients.get((service, region))
        if client is None:
            from tencentcloud.common.profile.client_profile import ClientProfile
            from tencentcloud.common.profile.http_profile import HttpProfile

            opts = self.options
            http = HttpProfile(protocol=opts.protocol, endpoint=opts.endpoint, reqTimeout=opts.request_timeout)
            # retryer=None: the SDK's NoopRetryer; the region breaker (which would switch to a backup
            # endpoint on the internet) stays disabled, as is the SDK's default
            profile = ClientProfile(httpProfile=http, language="en-US", disable_region_breaker=True, retryer=None)
            package, cls = SERVICES[service]
            module = importlib.import_module(f"{package}.{service}_client")
            client = getattr(module, cls)(self._credential, region, profile)
            self._clients[(service, region)] = client
        return client

    def close(self) -> None:
        self._clients.clear()

    # ------------------------------------------------------------------ the choke point
    def call(self, service: str, action: str, params: dict[str, Any] | None = None, *, idempotent: bool,
             region: str | None = None) -> Any:
        """``<Service>Client.<action>(<action>Request(**params))`` under the retry policy, in the
        connection's region unless ``region`` names another; returns the SDK's response model.
        Every SDK exception leaves as an mcinfra error."""
        from tencentcloud.common.exception.tencent_cloud_sdk_exception import TencentCloudSDKException

        what = f"{service}.{action}"
        request = self._request(service, action, params or {})
        method: Callable[[Any], Any] = getattr(self._client(service, region or self.region), action)
        started = time.monotonic()

        def once() -> Any:
            try:
                return method(request)
            except TencentCloudSDKException as exc:
                raise ERRORS.error(str(exc.get_code()), _message(exc)) from exc

        try:
            out = self.retry.run(once, idempotent=idempotent, what=what)
        except McInfraError as exc:
            log.info("%s failed after %.1f ms: %s", what, (time.monotonic() - started) * 1000, type(exc).__name__)
            raise
        self.calls[what] = self.calls.get(what, 0) + 1
        return out

    def _request(self, service: str, action: str, params: dict[str, Any]) -> Any:
        cls = getattr(self._models[service], f"{action}Request")
        request = cls()
        unknown = [k for k in params if not isinstance(getattr(cls, k, None), property)]
        if unknown:  # the SDK would only warn and drop them
            raise AssertionError(f"{action}Request has no member {unknown}")
        request.from_json_string(json.dumps(params))
        return request

    # ------------------------------------------------------------------ paging and waiting
    def list_all(self, service: str, action: str, items: str, params: dict[str, Any] | None = None,
                 *, as_strings: bool = False) -> list[Any]:
        """Every item of an Offset/Limit-paged Describe* (``items`` names the set in the response).
        VPC's actions take Offset and Limit as strings (``as_strings``), CVM's and CLB's as ints."""

        def number(n: int) -> Any:
            return str(n) if as_strings else n

        def fetch(offset: int | None) -> tuple[list[Any], int | None]:
            start = offset or 0
            page = self.call(service, action, {**(params or {}), "Offset": number(start),
                                               "Limit": number(PAGE_LIMIT)}, idempotent=True)
            got = list(getattr(page, items) or [])
            following = start + len(got)
            return got, (following if got and following < int(page.TotalCount or 0) else None)

        return list(paginate(fetch))

    def poll(self, read: Callable[[], Any], done: Callable[[Any], bool], what: str) -> Any:
        opts = self.options
        return poll_until(read, done, timeout=opts.operation_timeout, interval=opts.poll_interval,
                          max_interval=opts.poll_max_interval, provider=PROVIDER, what=what)

    def clb_write(self, action: str, params: dict[str, Any]) -> Any:
        """A CLB write, waited for: every one starts a task polled with DescribeTaskStatus(TaskId=RequestId)
        (0 succeeded, 1 failed, 2 running). A failed task raises ``CloudError(code="TaskFailed")``."""
        out = self.call("clb", action, params, idempotent=False)
        self.wait_task(out.RequestId, f"clb.{action}")
        return out

    def wait_task(self, task_id: str, what: str) -> None:
        def read() -> Any:
            return self.call("clb", "DescribeTaskStatus", {"TaskId": task_id}, idempotent=True)

        status = self.poll(read, lambda r: r.Status != TASK_RUNNING, what)
        if status.Status == TASK_FAILED:
            raise CloudError(PROVIDER, "TaskFailed", f"{what}: the task failed after it was accepted"
                             + (f" ({status.Message})" if status.Message else ""))


def _message(exc: Any) -> str:
    """The SDK exception's message without the request's own values (a message never quotes
    credentials; the request id helps Tencent support)."""
    message = str(exc.get_message() or "")
    if isinstance(exc.get_message(), bytes):
        message = exc.get_message().decode("utf-8", "replace")
    request_id = exc.get_request_id()
    return f"{message[:500]} (RequestId {request_id})" if request_id else message[:500]


def _credential(info: SessionInfo) -> Any:
    """SecretId/SecretKey (and an STS token) from the credential; without them the SDK's
    environment (TENCENTCLOUD_SECRET_ID/KEY) and profile file (~/.tencentcloud/credentials) are
    read. The SDK's CVM-role step is never used: it would ask the instance metadata service."""
    from tencentcloud.common import credential

    secret_id = info.secret("secret_id") or info.secret("SecretId") or info.secret("ClientId")
    secret_key = info.secret("secret_key") or info.secret("SecretKey") or info.secret("ClientSecret")
    token = info.secret("token") or info.secret("SessionToken")
    if secret_id and secret_key:
        return credential.Credential(secret_id, secret_key, token)
    if secret_id or secret_key:
        raise InvalidRequest("tencent credentials need both secret_id and secret_key", field="credentials")
    for provider in (credential.EnvironmentVariableCredential(), credential.ProfileCredential()):
        try:
            found = provider.get_credential()
        except Exception:  # the SDK raises when a source is absent or incomplete: try the next one
            found = None
        if found is not None:
            return found
    raise InvalidRequest(
        "tencent credentials need secret_id and secret_key (or TENCENTCLOUD_SECRET_ID/KEY in the environment, "
        "or ~/.tencentcloud/credentials)",
        field="credentials",
    )


__all__ = ["ERRORS", "PROVIDER", "TencentClient"]
