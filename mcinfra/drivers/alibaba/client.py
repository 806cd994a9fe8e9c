"""The Alibaba session: the three SDK clients (ECS, VPC, NLB) and the one choke point every
API call goes through. SDK exceptions become mcinfra errors here and only here (via
:data:`ERRORS`); the kit's RetryPolicy retries (the SDK's own retries stay off: a Config
without ``retry_options`` never retries)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from mcinfra.core.errors import CloudError, InUse, InvalidRequest, McInfraError, NotFound
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.alibaba.options import AlibabaOptions
from mcinfra.drivers.kit import ErrorTable, paginate, poll_until

PROVIDER = "alibaba"
#: vSwitches the NLB handler makes in a second zone (an NLB needs two) carry this name prefix;
#: they belong to their NLB, so VPC reads leave them out
NLB_VSWITCH_PREFIX = "mcinfra-nlb-"

#: Alibaba error codes -> mcinfra errors (codes from Alibaba's published API metadata).
ERRORS = ErrorTable(
    PROVIDER,
    not_found=frozenset({"Forbidden.VpcNotFound", "Invalid.NotExist"}),
    already_exists=frozenset({"KeyPair.AlreadyExist", "DuplicatedParam.Server", "Conflict.Port"}),
    in_use=frozenset({"ResourceInUse.ServerGroup", "InvalidParameter.KeypairAlreadyAttachedInstance"}),
    throttled=frozenset(
        {"Throttling", "Throttling.User", "Throttling.Api", "Throttling.Resource", "Throttling.Concurrent"}
    ),
    transient=frozenset(
        {
            "InternalError",
            "ServiceUnavailable",
            "SystemBusy",
            "System.ServiceBusy",
            "OperationFailed.SystemBusy",
            "UnknownError",
        }
    ),
    suffixes={".NotFound": NotFound},
)
#: code families the ErrorTable's exact/suffix match cannot express: DeleteVpc alone documents
#: some 25 ``DependencyViolation.<What>`` codes, NLB ``ResourceNotFound.<what>`` ones
PREFIXES: dict[str, type[McInfraError]] = {"DependencyViolation": InUse, "ResourceNotFound.": NotFound}


def classify(code: str, message: str, *, status: int | None, retry_after: float | None = None) -> McInfraError:
    """The mcinfra error for an Alibaba error code."""
    for prefix, cls in PREFIXES.items():
        if code.startswith(prefix):
            return cls(f"[{PROVIDER}] {code}: {message}")
    return ERRORS.error(code, message, status=status, retry_after=retry_after)


#: the largest PageSize / MaxResults each list action takes (its published maximum), when under 100
MAX_PAGE_SIZE = {
    "DescribeKeyPairs": 50,
    "DescribeSecurityGroups": 50,
    "DescribeVpcs": 50,
    "DescribeVSwitches": 50,
    "DescribeInstanceStatus": 50,
}

#: SDK module per product: (client module, models module)
PRODUCTS = {
    "ecs": ("alibabacloud_ecs20140526.client", "alibabacloud_ecs20140526.models"),
    "vpc": ("alibabacloud_vpc20160428.client", "alibabacloud_vpc20160428.models"),
    "nlb": ("alibabacloud_nlb20220430.client", "alibabacloud_nlb20220430.models"),
}


def map_exception(exc: BaseException, what: str) -> McInfraError:
    """The mcinfra error for an SDK exception (its text never holds the AccessKey secret: it
    comes from the response body, and the secret never goes on the wire)."""
    from darabonba.exceptions import ResponseException, UnretryableException

    if isinstance(exc, ResponseException):
        code = str(exc.code or f"HTTP{exc.status_code}")
        retry_after = exc.retry_after / 1000 if exc.retry_after else None
        return classify(code, f"{what}: {exc.message}", status=exc.status_code, retry_after=retry_after)
    if isinstance(exc, UnretryableException):
        # the request may not have reached the cloud (refused/reset connection, timeout)
        return CloudError(PROVIDER, "ConnectionError", f"{what}: no answer from the endpoint", retryable=True)
    code = str(getattr(exc, "code", "") or type(exc).__name__)
    return CloudError(PROVIDER, code, f"{what}: {getattr(exc, 'message', '') or type(exc).__name__}")


class AliClient:
    """One connection's SDK clients and choke point."""

    def __init__(self, info: SessionInfo, options: AlibabaOptions) -> None:
        import importlib

        from alibabacloud_tea_openapi import models as open_api

        if not info.region:
            raise InvalidRequest("an alibaba connection needs a region (e.g. cn-hangzhou)", field="region")
        key_id = info.secret("access_key_id") or info.secret("ALIBABA_CLOUD_ACCESS_KEY_ID")
        key_secret = info.secret("access_key_secret") or info.secret("ALIBABA_CLOUD_ACCESS_KEY_SECRET")
        token = info.secret("security_token") or info.secret("ALIBABA_CLOUD_SECURITY_TOKEN")
        auth: dict[str, Any]
        if key_id and key_secret:
            auth = {"access_key_id": key_id, "access_key_secret": key_secret, "security_token": token}
        elif options.credential_chain:
            # opt-in only: the chain reads environment variables, ~/.alibabacloud/credentials and
            # the ECS RAM role (instance metadata), which tests must never reach
            from alibabacloud_credentials.client import Client as CredentialChain

            auth = {"credential": CredentialChain()}
        else:
            raise InvalidRequest(
                "alibaba credentials need access_key_id and access_key_secret (or the option "
                "credential_chain=True for the SDK's default chain)",
                field="credentials",
            )
        self.info = info
        self.options = options
        self.region: str = info.region
        self.zone: str | None = info.zone
        self.retry = options.retry_policy(PROVIDER, self.region)
        self.models: dict[str, Any] = {}
        self._clients: dict[str, Any] = {}
        for product, (client_mod, models_mod) in PRODUCTS.items():
            config = open_api.Config(
                **auth,
                region_id=self.region,
                protocol=options.protocol,
                connect_timeout=int(options.connect_timeout * 1000),
                read_timeout=int(options.read_timeout * 1000),
                # an explicit endpoint: the SDK never guesses one from its region map
                endpoint=options.endpoint or f"{product}.{self.region}.aliyuncs.com",
            )
            self._clients[product] = importlib.import_module(client_mod).Client(config)
            self.models[product] = importlib.import_module(models_mod)
        #: calls made (action -> count), for figures and tests
        self.calls: dict[str, int] = {}

    def close(self) -> None:
        self._clients.clear()

    def model(self, product: str, name: str, **fields: Any) -> Any:
        """An SDK request model, e.g. ``model("ecs", "DescribeInstancesRequest", region_id=...)``."""
        return getattr(self.models[product], name)(**fields)

    # ------------------------------------------------------------------ the choke point
    def call(self, product: str, action: str, *, idempotent: bool = False, what: str = "", **fields: Any) -> Any:
        """Call ``Action`` (e.g. ``DescribeInstances``) with a request made of ``fields``; the
        response body model. Throttling is retried on any call, transient failures only on
        idempotent ones (the kit's RetryPolicy)."""
        request = self.model(product, f"{action}Request", **fields)
        fn: Callable[..., Any] = getattr(self._clients[product], _method_name(self._clients[product], action))
        label = f"{product}.{action}" + (f" {what}" if what else "")

        def once() -> Any:
            try:
                response = fn(request)
            except McInfraError:
                raise
            except Exception as exc:
                raise map_exception(exc, label) from exc
            self.calls[action] = self.calls.get(action, 0) + 1
            return response.body

        return self.retry.run(once, idempotent=idempotent, what=label)

    def read(self, product: str, action: str, **fields: Any) -> Any:
        """An idempotent call (a Describe/List/Get)."""
        return self.call(product, action, idempotent=True, **fields)

    def page_size(self, action: str) -> int:
        return min(self.options.page_size, MAX_PAGE_SIZE.get(action, 100))

    def pages(self, product: str, action: str, pick: Callable[[Any], list[Any]], **fields: Any) -> Iterator[Any]:
        """Every item of a PageNumber/PageSize list."""
        size = self.page_size(action)
        seen = 0

        def fetch(page: int | None) -> tuple[list[Any], int | None]:
            nonlocal seen
            number = page or 1
            body = self.read(product, action, page_number=number, page_size=size, **fields)
            found = pick(body) or []
            seen += len(found)
            # count what came rather than trust the page size asked for: a server may send fewer
            return found, (number + 1 if found and seen < (body.total_count or 0) else None)

        return paginate(fetch)

    def token_pages(
        self,
        product: str,
        action: str,
        pick: Callable[[Any], list[Any]],
        size_field: str = "max_results",
        **fields: Any,
    ) -> Iterator[Any]:
        """Every item of a NextToken/MaxResults list."""

        def fetch(token: str | None) -> tuple[list[Any], str | None]:
            body = self.read(product, action, next_token=token, **{size_field: self.page_size(action)}, **fields)
            return pick(body) or [], body.next_token or None

        return paginate(fetch)

    # ------------------------------------------------------------------ NLB jobs
    def nlb_job(
        self, action: str, what: str = "", *, accepted: Callable[[Any], None] | None = None, **fields: Any
    ) -> Any:
        """An asynchronous NLB write: the call, then GetJobStatus until ``Succeeded``. ``accepted``
        gets the answer before the wait, so a create can register its undo even when the job
        then fails (the resource exists by then)."""
        body = self.call("nlb", action, what=what, region_id=self.region, **fields)
        if accepted is not None:
            accepted(body)
        job = getattr(body, "job_id", None)
        if job:
            self.wait_job(job, f"{action} {what}".strip())
        return body

    def wait_job(self, job_id: str, what: str) -> None:
        def read() -> str:
            return str(self.read("nlb", "GetJobStatus", job_id=job_id).status or "")

        status = poll_until(
            read,
            lambda s: s != "Processing",
            timeout=self.options.async_timeout,
            interval=self.options.poll_interval,
            max_interval=self.options.poll_interval * 10,
            provider=PROVIDER,
            what=what,
        )
        if status != "Succeeded":
            raise CloudError(PROVIDER, "JobFailed", f"{what}: NLB job {job_id} ended {status or 'without a status'}")

    def wait(self, read: Callable[[], Any], done: Callable[[Any], bool], *, timeout: float, what: str) -> Any:
        return poll_until(
            read,
            done,
            timeout=timeout,
            interval=self.options.poll_interval,
            max_interval=self.options.poll_interval * 10,
            provider=PROVIDER,
            what=what,
        )


def _method_name(client: Any, action: str) -> str:
    """The SDK's snake_case method for an action (``DescribeVSwitches`` -> ``describe_vswitches``)."""
    import re

    candidate = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", action).lower()
    if hasattr(client, candidate):
        return candidate
    squashed = candidate.replace("v_switch", "vswitch")
    if hasattr(client, squashed):
        return squashed
    raise AttributeError(f"the SDK client has no method for {action}")
