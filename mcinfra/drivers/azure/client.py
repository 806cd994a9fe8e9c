"""The Azure session: credential, SDK clients, and the one choke point every SDK call goes through.

Every call runs through :meth:`AzureClient.call`: the SDK's own retries are off (``retry_total=0``)
and the kit's RetryPolicy retries throttling on any call and server or connection errors on
idempotent ones (ARM's PUT and DELETE are idempotent by contract). Every SDK exception leaves
here as an mcinfra error, through :data:`TABLE`.
Long-running operations are begun through ``call`` and waited for by :meth:`AzureClient.wait`,
bounded by ``operation_timeout``; a Failed or Canceled operation is mapped like any other error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.azure.options import AzureOptions
from mcinfra.drivers.kit import ErrorTable

log = logging.getLogger("mcinfra.drivers.azure")
PROVIDER = "azure"

#: ARM error codes -> mcinfra errors (codes from Azure's documented error lists; docs/azure.md)
TABLE = ErrorTable(
    PROVIDER,
    not_found=frozenset({"ResourceNotFound", "NotFound", "ResourceGroupNotFound", "PlatformImageNotFound"}),
    already_exists=frozenset({"ResourceExists"}),
    in_use=frozenset({"InUseSubnetCannotBeDeleted", "InUseNetworkSecurityGroupCannotBeDeleted", "NicInUse",
                      "PublicIPAddressCannotBeDeleted"}),
    throttled=frozenset({"TooManyRequests", "SubscriptionRequestsThrottled"}),
    transient=frozenset({"InternalServerError", "ServiceUnavailable", "RetryableError"}),
    use_status=True,
)
#: ARM answers 409 for conflicts that are not duplicates (OperationNotAllowed on a busy or deallocated
#: VM): these stay CloudError instead of the table's 409 -> AlreadyExists
NOT_DUPLICATE_409 = frozenset({"OperationNotAllowed", "Conflict", "SkuNotAvailable"})


def error_code(exc: BaseException) -> tuple[str, int | None]:
    """(ARM error code, HTTP status) of an azure-core exception."""
    status = getattr(exc, "status_code", None)
    err = getattr(exc, "error", None)
    code = getattr(err, "code", None) or getattr(exc, "reason", None) or type(exc).__name__
    return str(code), status


def _retry_after(exc: BaseException) -> float | None:
    response = getattr(exc, "response", None)
    value = response.headers.get("Retry-After") if response is not None and response.headers else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def map_error(exc: BaseException, what: str) -> McInfraError:
    """The mcinfra error for an SDK exception raised by ``what`` (e.g. 'virtual_machines.get')."""
    from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ServiceRequestError

    if isinstance(exc, McInfraError):
        return exc
    code, status = error_code(exc)
    if isinstance(exc, ClientAuthenticationError):
        # azure-identity's messages name the failing credential and AADSTS code, never the secret
        return CloudError(PROVIDER, "AuthenticationFailed", f"{what}: {type(exc).__name__}")
    if isinstance(exc, HttpResponseError):
        message = f"{what}: {getattr(getattr(exc, 'error', None), 'message', None) or exc.reason or ''}"
        if status == 409 and code in NOT_DUPLICATE_409:
            return CloudError(PROVIDER, code, message)
        return TABLE.error(code, message, status=status, retry_after=_retry_after(exc))
    if isinstance(exc, ServiceRequestError):
        # the request never reached Azure: safe to try again on any call
        return CloudError(PROVIDER, "ConnectionError", f"{what}: {type(exc).__name__}", throttled=True)
    from azure.core.exceptions import ServiceResponseError

    if isinstance(exc, ServiceResponseError):
        return CloudError(PROVIDER, "ConnectionError", f"{what}: {type(exc).__name__}", retryable=True)
    return CloudError(PROVIDER, type(exc).__name__, f"{what}: {exc}")


class _StaticToken:
    """A fixed bearer token for the loopback fake: no identity endpoint is ever contacted."""

    def get_token(self, *scopes: str, **kwargs: Any) -> Any:
        from azure.core.credentials import AccessToken

        return AccessToken("mcinfra-static-token", int(time.time()) + 3600)

    def get_token_info(self, *scopes: str, options: Any = None) -> Any:
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo("mcinfra-static-token", int(time.time()) + 3600)


def _allow_http_policy() -> Any:
    from azure.core.pipeline.policies import SansIOHTTPPolicy

    class AllowHttp(SansIOHTTPPolicy):  # type: ignore[misc]
        """Lets the bearer-token policy send to a plain-http loopback endpoint (gets, pages, LRO polls)."""

        def on_request(self, request: Any) -> None:
            request.context["enforce_https"] = False

    return AllowHttp()


class AzureClient:
    def __init__(self, info: SessionInfo, opts: AzureOptions) -> None:
        if not info.region:
            raise InvalidRequest("an azure connection needs a region (a location such as koreacentral)",
                                 field="region")
        self.opts = opts
        self.location: str = info.region
        self.zone: str | None = info.zone or None
        subscription = info.secret("subscription_id") or opts.subscription_id
        if not subscription:
            raise InvalidRequest("azure needs a subscription: credential 'subscription_id' or option "
                                 "'subscription_id'", field="subscription_id")
        self.subscription: str = subscription
        self.group: str = opts.resource_group
        self.retry = opts.retry_policy(PROVIDER, self.location)
        self.credential = self._credential(info, opts)
        self._clients: dict[str, Any] = {}
        self._group_ready = False
        #: SDK calls made (operation -> count), for figures and tests
        self.calls: dict[str, int] = {}

    @staticmethod
    def _credential(info: SessionInfo, opts: AzureOptions) -> Any:
        if opts.credential == "static":
            return _StaticToken()
        if opts.credential == "default":
            from azure.identity import DefaultAzureCredential

            return DefaultAzureCredential(exclude_interactive_browser_credential=True)
        values = {k: info.secret(k) for k in ("tenant_id", "client_id", "client_secret")}
        missing = [k for k, v in values.items() if not v]
        if missing:
            raise InvalidRequest(f"azure credentials need {', '.join(missing)} (or option credential='default')",
                                 field="credentials")
        from azure.identity import ClientSecretCredential

        return ClientSecretCredential(values["tenant_id"], values["client_id"], values["client_secret"])

    # ------------------------------------------------------------------ SDK clients
    def _kwargs(self) -> dict[str, Any]:
        kw: dict[str, Any] = {"retry_total": 0, "read_timeout": self.opts.request_timeout,
                              "connection_timeout": min(self.opts.request_timeout, 30.0)}
        if self.opts.poll_interval is not None:
            kw["polling_interval"] = self.opts.poll_interval
        if self.opts.base_url:
            kw["base_url"] = self.opts.base_url
            if self.opts.loopback:
                kw["per_call_policies"] = [_allow_http_policy()]
        return kw

    def sdk(self, name: str) -> Any:
        """One of ``compute``, ``network``, ``resources``, ``subscriptions`` (made once per session)."""
        cli = self._clients.get(name)
        if cli is None:
            if name == "compute":
                from azure.mgmt.compute import ComputeManagementClient as Cls
            elif name == "network":
                from azure.mgmt.network import NetworkManagementClient as Cls  # type: ignore[assignment]
            elif name == "resources":
                from azure.mgmt.resource.resources import ResourceManagementClient as Cls  # type: ignore[assignment]
            else:
                from azure.mgmt.resource.subscriptions import SubscriptionClient

                cli = SubscriptionClient(self.credential, **self._kwargs())
                self._clients[name] = cli
                return cli
            cli = Cls(self.credential, self.subscription, **self._kwargs())
            self._clients[name] = cli
        return cli

    def close(self) -> None:
        for cli in self._clients.values():
            try:
                cli.close()
            except Exception:  # closing is best effort: a dead session must not mask the caller's error
                log.debug("closing %s failed", type(cli).__name__, exc_info=True)
        self._clients.clear()
        close = getattr(self.credential, "close", None)
        if close is not None:
            close()

    # ------------------------------------------------------------------ the choke point
    def call(self, sdk: str, path: str, *args: Any, idempotent: bool = False, **kwargs: Any) -> Any:
        """``<sdk client>.<path>(*args, **kwargs)`` (path like ``virtual_machines.get``) under the kit's
        RetryPolicy, SDK errors mapped. Pagers are read to the end here; pollers are returned (a
        ``begin_*`` call sends the request that starts the operation; :meth:`wait` waits for it)."""
        from azure.core.paging import ItemPaged

        group, _, method = path.rpartition(".")
        target = getattr(self.sdk(sdk), group) if group else self.sdk(sdk)
        fn: Callable[..., Any] = getattr(target, method)

        def once() -> Any:
            started = time.monotonic()
            try:
                out = fn(*args, **kwargs)
                if isinstance(out, ItemPaged):
                    out = list(out)  # later pages are fetched while iterating: inside the choke point
            except Exception as exc:
                log.info("%s failed after %.1f ms: %s", path, (time.monotonic() - started) * 1000,
                         error_code(exc)[0])
                raise map_error(exc, path) from exc
            self.calls[path] = self.calls.get(path, 0) + 1
            return out

        return self.retry.run(once, idempotent=idempotent, what=path)

    def wait(self, poller: Any, what: str, resume: Callable[[str], Any] | None = None) -> Any:
        """The result of a long-running operation, waited for at most ``operation_timeout``.

        The SDK's poller sends the polls (its own retries are off), so a throttled poll would end
        the wait although the operation runs on. With ``resume`` (a way to rebuild the poller from
        its continuation token), a throttled poll is paused and polling picks up where it was,
        under the same RetryPolicy; nothing is sent to Azure again but the polls."""
        deadline = time.monotonic() + self.opts.operation_timeout
        tries, waited = 1, 0.0
        while True:
            try:
                result = poller.result(timeout=max(deadline - time.monotonic(), 0.001))
            except Exception as exc:
                err = map_error(exc, what)
                if isinstance(err, CloudError) and err.throttled and self.retry.limiter is not None:
                    self.retry.limiter.throttled()  # the SDK's own polls are throttled: slow the bucket too
                if resume is not None and isinstance(err, CloudError) and err.throttled \
                        and tries < self.retry.attempts:
                    delay = self.retry.pause(tries, err)
                    if waited + delay <= self.retry.budget:
                        token = poller.continuation_token()
                        log.info("%s: poll throttled, polling again in %.2f s", what, delay)
                        self.retry.sleep(delay)
                        tries, waited = tries + 1, waited + delay
                        poller = resume(token)
                        continue
                raise err from exc
            if not poller.done():
                raise CloudError(PROVIDER, "OperationTimeout",
                                 f"{what}: not finished after {self.opts.operation_timeout:.0f} s")
            return result

    def run(self, sdk: str, path: str, *args: Any, idempotent: bool = False, **kwargs: Any) -> Any:
        """Begin a long-running operation and wait for it (throttled polls resumed, see :meth:`wait`)."""
        poller = self.call(sdk, path, *args, idempotent=idempotent, **kwargs)
        return self.wait(poller, path, self.resumer(sdk, path, *args, **kwargs))

    def resumer(self, sdk: str, path: str, *args: Any, **kwargs: Any) -> Callable[[str], Any]:
        """Rebuilds the poller of ``path`` from a continuation token (the begin call then sends nothing)."""
        return lambda token: self.call(sdk, path, *args, continuation_token=token, idempotent=True, **kwargs)

    # ------------------------------------------------------------------ the resource group
    def ensure_group(self) -> None:
        """The connection's resource group exists (created, tagged as mcinfra's, when missing)."""
        if self._group_ready:
            return
        try:
            self.call("resources", "resource_groups.get", self.group, idempotent=True)
        except NotFound:
            from azure.mgmt.resource.resources.models import ResourceGroup

            self.call("resources", "resource_groups.create_or_update", self.group,
                      ResourceGroup(location=self.location, tags={"mcinfra-created": "true"}), idempotent=True)
        self._group_ready = True

    # ------------------------------------------------------------------ ids
    def rid(self, provider_type: str, name: str) -> str:
        return (f"/subscriptions/{self.subscription}/resourceGroups/{self.group}/providers/"
                f"{provider_type}/{name}")


def split_id(system_id: str, default_group: str) -> tuple[str, str]:
    """(resource group, name) of an ARM id; a bare name is taken in the connection's group."""
    parts = system_id.strip("/").split("/")
    if len(parts) >= 8 and parts[0].lower() == "subscriptions" and parts[2].lower() == "resourcegroups":
        return parts[3], parts[7]
    if "/" in system_id or not system_id:
        raise NotFound(f"{system_id!r} is not an Azure resource id of this connection")
    return default_group, system_id


def last(ref: str | None) -> str:
    return ref.rstrip("/").rsplit("/", 1)[-1] if ref else ""


def same_id(a: str | None, b: str | None) -> bool:
    """ARM ids compare case-insensitively."""
    return bool(a) and bool(b) and a.lower() == b.lower()  # type: ignore[union-attr]


def text(value: Any) -> str:
    """An SDK enum's wire value (``str()`` of the enum would give ``PROTOCOL.TCP``), or the string."""
    if value is None:
        return ""
    return str(getattr(value, "value", value))
