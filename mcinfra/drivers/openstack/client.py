"""The openstacksdk connection, the one choke point every OpenStack call goes through, and the
mapping of SDK exceptions to mcinfra errors.

Imported only by :meth:`OpenStackDriver.connect`, so ``import mcinfra`` never loads the SDK.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

import openstack
from keystoneauth1 import exceptions as ks_exc
from openstack import exceptions as os_exc

from mcinfra.core.errors import CloudError, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.kit import ErrorTable, poll_until
from mcinfra.drivers.openstack.options import OpenStackOptions

log = logging.getLogger("mcinfra.drivers.openstack")

PROVIDER = "openstack"
T = TypeVar("T")

#: OpenStack error codes -> mcinfra errors. A code is Nova's fault name (``itemNotFound``),
#: Neutron's ``NeutronError.type`` (``NetworkInUse``), or for Octavia/Glance/Keystone, which
#: name no type, the HTTP reason (``Conflict``). The HTTP status is not used as such (409 means
#: "already exists" nowhere in OpenStack): 404 is normalised to ``NotFound`` below.
ERRORS = ErrorTable(
    PROVIDER,
    not_found=frozenset({"itemNotFound", "NotFound", "HTTPNotFound"}),
    in_use=frozenset(
        {
            "NetworkInUse",
            "SubnetInUse",
            "SecurityGroupInUse",
            "RouterInUse",
            "PortInUse",
            "RouterInterfaceInUseByFloatingIP",
        }
    ),
    already_exists=frozenset({"SecurityGroupRuleExists"}),
    # 503: Octavia's "the project is busy with other requests, try again later"; ImmutableState:
    # Octavia's 409 for a change while the load balancer is PENDING_* (refused without acting)
    throttled=frozenset(
        {"ServiceUnavailable", "serviceUnavailable", "HTTPServiceUnavailable", "ImmutableState", "TooManyRequests"}
    ),
    transient=frozenset({"computeFault", "InternalServerError", "HTTPInternalServerError", "ConnectFailure"}),
    suffixes={"NotFound": NotFound},
    use_status=False,
)

HTTP_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    409: "Conflict",
    412: "PreconditionFailed",
    413: "OverLimit",
    429: "TooManyRequests",
    500: "InternalServerError",
    503: "ServiceUnavailable",
}


def error_code(status: int | None, body: Any) -> tuple[str, str]:
    """(code, message) from an OpenStack error body, in whichever of the services' shapes."""
    reason = HTTP_REASONS.get(status or 0, f"HTTP{status}")
    if isinstance(body, dict):
        neutron = body.get("NeutronError")
        if isinstance(neutron, dict):
            return str(neutron.get("type") or reason), str(neutron.get("message") or "")
        if "faultstring" in body:  # Octavia (WSME)
            text = str(body.get("faultstring") or "")
            if status == 409 and "Invalid state" in text:
                return "ImmutableState", text
            return reason, text
        if len(body) == 1:
            key, value = next(iter(body.items()))
            if isinstance(value, dict) and "message" in value:
                # Nova {"itemNotFound": {...}}; Keystone {"error": {"title", ...}}
                code = key if key != "error" else str(value.get("title") or reason).replace(" ", "")
                return code, str(value.get("message") or "")
        if "message" in body:  # Glance
            return reason, str(body.get("message") or "")
    return reason, str(body or "")[:300]


def _response_body(response: Any) -> Any:
    if response is None:
        return None
    try:
        return response.json()
    except ValueError:
        return getattr(response, "text", "")[:300]


def map_error(exc: BaseException, what: str) -> McInfraError:
    """The mcinfra error for an SDK/keystoneauth exception (the caller chains it)."""
    if isinstance(exc, McInfraError):
        return exc
    if isinstance(exc, (os_exc.HttpException, ks_exc.HttpError)):
        status = getattr(exc, "status_code", None) or getattr(exc, "http_status", None)
        code, message = error_code(status, _response_body(getattr(exc, "response", None)))
        if status == 404 and ERRORS.kind_of(code) is None:
            code = "NotFound"
        retry_after = None
        response = getattr(exc, "response", None)
        if response is not None and str(response.headers.get("Retry-After", "")).isdigit():
            retry_after = float(response.headers["Retry-After"])
        return ERRORS.error(code, f"{what}: {message or code}", status=status, retry_after=retry_after)
    if isinstance(exc, ks_exc.ConnectFailure | ks_exc.ConnectTimeout | ks_exc.RetriableConnectionFailure):
        # the request may or may not have reached the cloud: retried for reads only
        return CloudError(PROVIDER, "ConnectFailure", f"{what}: connection failed", retryable=True)
    if isinstance(exc, ks_exc.MissingRequiredOptions | ks_exc.AuthPluginException):
        return InvalidRequest(f"[openstack] {what}: incomplete credentials ({type(exc).__name__})")
    if isinstance(exc, ks_exc.EndpointNotFound | ks_exc.EmptyCatalog):
        return CloudError(PROVIDER, "EndpointNotFound", f"{what}: the service catalog has no such endpoint")
    return CloudError(PROVIDER, type(exc).__name__, f"{what}: {type(exc).__name__}")


def connect_sdk(info: SessionInfo, options: OpenStackOptions) -> Any:
    """An ``openstack.connection.Connection`` for the credential. Nothing comes from the
    environment or clouds.yaml unless the credential names a ``cloud`` of the user's clouds.yaml."""
    common: dict[str, Any] = {
        "region_name": info.region,
        "interface": options.interface,
        "verify": options.cacert or options.verify,
        "api_timeout": options.api_timeout,
        # the kit's RetryPolicy retries; keystoneauth's and the image proxy's own retries are off
        "connect_retries": 0,
        "status_code_retries": 0,
        "image_status_code_retries": 0,
    }
    cloud = info.secret("cloud")
    if cloud:
        return openstack.connect(cloud=cloud, load_envvars=False, **common)
    auth_url = info.secret("auth_url")
    if not auth_url:
        raise InvalidRequest(
            "openstack credential needs auth_url (or cloud, a clouds.yaml entry)", field="credential.auth_url"
        )
    auth: dict[str, Any] = {"auth_url": auth_url}
    app_id, app_secret = info.secret("application_credential_id"), info.secret("application_credential_secret")
    if app_id or app_secret:
        if not (app_id and app_secret):
            raise InvalidRequest(
                "openstack application credentials need both application_credential_id and "
                "application_credential_secret",
                field="credential",
            )
        auth.update(
            auth_type="v3applicationcredential",
            application_credential_id=app_id,
            application_credential_secret=app_secret,
        )
    else:
        for key in ("username", "password"):
            if not info.secret(key):
                raise InvalidRequest(f"openstack credential needs {key}", field=f"credential.{key}")
        project = (
            {"project_id": info.secret("project_id")}
            if info.secret("project_id")
            else {"project_name": info.secret("project_name")}
        )
        if not any(project.values()):
            raise InvalidRequest(
                "openstack credential needs project_name or project_id", field="credential.project_name"
            )
        auth.update(
            username=info.secret("username"),
            password=info.secret("password"),
            user_domain_name=info.secret("user_domain_name", "Default"),
            project_domain_name=info.secret("project_domain_name", "Default"),
            **project,
        )
    return openstack.connect(load_yaml_config=False, load_envvars=False, **auth, **common)


class OpenStackClient:
    """One connection's SDK session. Every call goes through :meth:`call` (or :meth:`list`)."""

    def __init__(self, info: SessionInfo, options: OpenStackOptions) -> None:
        self.info = info
        self.options = options
        self.sdk = connect_sdk(info, options)
        self.region = info.region or ""
        # one OpenStack cloud is one Keystone: its rate-limit bucket is (auth_url or clouds.yaml
        # entry, region), so two clouds without region names do not share a bucket
        cloud = info.secret("auth_url") or f"cloud:{info.secret('cloud')}"
        self.retry = options.retry_policy(PROVIDER, f"{self.region or '-'}@{cloud}")
        self.zone = info.zone

    # ------------------------------------------------------------ the choke point
    def call(self, what: str, fn: Callable[..., T], *args: Any, idempotent: bool, **kwargs: Any) -> T:
        """``fn(*args, **kwargs)`` under the retry policy; raises only mcinfra errors. Arguments
        are never logged (they may hold key material)."""
        started = time.perf_counter()

        def once() -> T:
            try:
                return fn(*args, **kwargs)
            except McInfraError:
                raise
            except Exception as exc:  # every SDK/keystoneauth failure becomes an mcinfra error here
                raise map_error(exc, what) from exc

        try:
            out = self.retry.run(once, idempotent=idempotent, what=what)
        except McInfraError as mapped:
            log.debug(
                "openstack %s failed after %.1f ms: %s",
                what,
                (time.perf_counter() - started) * 1000,
                type(mapped).__name__,
            )
            raise
        log.debug("openstack %s ok in %.1f ms", what, (time.perf_counter() - started) * 1000)
        return out

    def read(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.call(what, fn, *args, idempotent=True, **kwargs)

    def write(self, what: str, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.call(what, fn, *args, idempotent=False, **kwargs)

    def delete(self, what: str, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> None:
        """A delete is idempotent: retried, and an already-gone resource is fine on a retry only."""
        self.call(what, fn, *args, idempotent=True, **kwargs)

    def list(self, what: str, fn: Callable[..., Iterable[T]], *args: Any, **query: Any) -> list[T]:
        """Every item of an SDK list. The SDK follows the ``*_links``/``next`` pages lazily, so the
        whole walk runs inside one call (a retry starts it again)."""
        return self.call(what, lambda: list(fn(*args, **query)), idempotent=True)

    def wait(self, what: str, read: Callable[[], T], done: Callable[[T], bool]) -> T:
        return poll_until(
            read,
            done,
            timeout=self.options.wait_timeout,
            interval=self.options.poll_interval,
            max_interval=self.options.max_poll_interval,
            provider=PROVIDER,
            what=what,
        )

    # ------------------------------------------------------------ service proxies
    def _proxy(self, service: str) -> Any:
        # the SDK authenticates and discovers the service's version when a proxy is first
        # made: that is a cloud call too, so it goes through the choke point
        return self.call(f"{service} endpoint", getattr, self.sdk, service, idempotent=True)

    @property
    def compute(self) -> Any:
        return self._proxy("compute")

    @property
    def network(self) -> Any:
        return self._proxy("network")

    @property
    def image(self) -> Any:
        return self._proxy("image")

    @property
    def identity(self) -> Any:
        return self._proxy("identity")

    @property
    def load_balancer(self) -> Any:
        return self._proxy("load_balancer")

    # ------------------------------------------------------------ shared lookups
    @functools.cached_property
    def external_network_id(self) -> str:
        wanted = self.options.external_network
        nets = self.list("external networks", self.network.networks, is_router_external=True)
        if wanted:
            for net in nets:
                if wanted in (net.id, net.name):
                    return str(net.id)
            raise NotFound(f"[openstack] external network {wanted!r} not found")
        if len(nets) != 1:
            names = ", ".join(sorted(str(n.name) for n in nets)) or "none"
            raise CloudError(
                PROVIDER,
                "ExternalNetworkAmbiguous",
                f"set the external_network option: the project sees these external networks: {names}",
            )
        return str(nets[0].id)

    def close(self) -> None:
        close = getattr(self.sdk, "close", None)
        if close is not None:
            close()
