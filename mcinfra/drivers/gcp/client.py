"""The GCP session: credentials, SDK clients, and the one choke point every API call goes through.

Mutations use the SDK's ``*_unary`` calls and are waited for here with Zone/Region/Global
operations clients built with the same ``client_options``: the SDK's own ExtendedOperation
polling builds its operations client without them and would call compute.googleapis.com
even when ``api_endpoint`` points elsewhere.
"""

from __future__ import annotations

import logging
import re
import time
from collections.abc import Callable
from typing import Any

from mcinfra.core.errors import CloudError, InvalidRequest, McInfraError
from mcinfra.core.handlers import SessionInfo
from mcinfra.drivers.gcp.options import GcpOptions
from mcinfra.drivers.kit import ErrorTable, poll_until

log = logging.getLogger("mcinfra.drivers.gcp")

PROVIDER = "gcp"
IN_USE_REASON = "resourceInUseByAnotherResource"
#: GCP's error reasons (HTTP errors) and codes (failed operations) -> mcinfra errors; otherwise
#: the HTTP status decides (404 NotFound, 409 AlreadyExists, 429 throttled, 5xx retryable).
ERRORS = ErrorTable(
    PROVIDER,
    not_found=frozenset({"RESOURCE_NOT_FOUND", "NOT_FOUND"}),
    already_exists=frozenset({"RESOURCE_ALREADY_EXISTS", "ALREADY_EXISTS"}),
    in_use=frozenset({IN_USE_REASON, "RESOURCE_IN_USE_BY_ANOTHER_RESOURCE"}),
)


def _reasons(exc: Any) -> list[str]:
    out = []
    for e in getattr(exc, "errors", None) or []:
        if isinstance(e, dict) and e.get("reason"):
            out.append(str(e["reason"]))
    reason = getattr(exc, "reason", None)
    if reason:
        out.append(str(reason))
    return out


def map_exception(exc: BaseException, what: str) -> McInfraError:
    """The mcinfra error for an SDK exception raised by the call ``what`` (e.g. 'instances.get')."""
    from google.api_core import exceptions as gexc
    from google.auth import exceptions as aexc
    from requests import exceptions as rexc

    if isinstance(exc, gexc.GoogleAPICallError):
        status = exc.code or None
        reasons = _reasons(exc)
        if IN_USE_REASON in reasons:
            reasons.insert(0, IN_USE_REASON)
        code = reasons[0] if reasons else str(status or type(exc).__name__)
        return ERRORS.error(code, f"{what}: {exc.message}", status=status)
    if isinstance(exc, aexc.GoogleAuthError):
        # google.auth messages name the failure (invalid_grant...), never the key itself.
        return CloudError(PROVIDER, "AuthError", f"{what}: {type(exc).__name__}: {exc}")
    if isinstance(exc, rexc.RequestException):
        return CloudError(PROVIDER, "ConnectionError", f"{what}: {type(exc).__name__}", retryable=True)
    return CloudError(PROVIDER, type(exc).__name__, f"{what}: {exc}")


def map_operation_error(op: Any, what: str) -> McInfraError:
    """The error of an operation that finished with ``op.error`` set (never retried: it ran)."""
    errors = list(op.error.errors) if op.error else []
    first = errors[0] if errors else None
    code = first.code if first else str(op.http_error_status_code or "OperationFailed")
    message = "; ".join(e.message for e in errors) or op.http_error_message or "operation failed"
    mapped = ERRORS.error(code, f"{what}: {message}", status=op.http_error_status_code or None)
    if isinstance(mapped, CloudError):
        return CloudError(PROVIDER, code, mapped.message)
    return mapped

SCOPES = ["https://www.googleapis.com/auth/cloud-platform"]
#: GCP resource names: lowercase letter, then letters, digits and '-', not ending with '-'.
NAME_RE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")
#: Keys of a service-account JSON key file.
SA_KEYS = (
    "type",
    "project_id",
    "private_key_id",
    "private_key",
    "client_email",
    "client_id",
    "auth_uri",
    "token_uri",
    "auth_provider_x509_cert_url",
    "client_x509_cert_url",
    "universe_domain",
)


def check_name(name: str, what: str) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidRequest(
            f"GCP {what} name {name!r} is invalid: 1-63 characters, a lowercase letter, then lowercase "
            "letters, digits or '-', not ending with '-'",
            field="name",
        )
    return name


def last(link: str) -> str:
    """The last segment of a resource URL (its name)."""
    return link.rstrip("/").rsplit("/", 1)[-1] if link else ""


class GcpClient:
    """One connection's SDK clients; its options are :class:`GcpOptions`."""

    def __init__(self, info: SessionInfo, options: GcpOptions) -> None:
        from google.cloud import compute_v1

        self.compute = compute_v1
        self.options = options
        if not info.region:
            raise InvalidRequest("a gcp connection needs a region (e.g. us-central1)", field="region")
        self.region: str = info.region
        self._zone: str | None = info.zone
        self.credentials, cred_project = self._credentials(info, options.anonymous)
        project = options.project or cred_project
        if not project:
            raise InvalidRequest("gcp needs a project: credential 'project_id' or option 'project'", field="project")
        self.project: str = str(project)
        endpoint = options.api_endpoint
        self.client_options: dict[str, Any] | None = {"api_endpoint": endpoint} if endpoint else None
        self.op_timeout = options.operation_timeout
        self.retry = options.retry_policy(PROVIDER, self.region)
        self.request_timeout = options.request_timeout
        self.image_projects: list[str] = list(options.image_projects)
        self._clients: dict[str, Any] = {}
        #: calls made through this session (operation -> count), for figures and tests
        self.calls: dict[str, int] = {}

    # ------------------------------------------------------------------ set-up
    @staticmethod
    def _credentials(info: SessionInfo, anonymous: bool) -> tuple[Any, str | None]:
        project = info.secret("project_id")
        if anonymous:
            from google.auth.credentials import AnonymousCredentials

            return AnonymousCredentials(), project
        values = {k: info.secret(k) for k in SA_KEYS}
        sa = {k: v for k, v in values.items() if v}
        sa.setdefault("type", "service_account")
        sa.setdefault("token_uri", "https://oauth2.googleapis.com/token")
        missing = [k for k in ("client_email", "private_key") if k not in sa]
        if missing:
            raise InvalidRequest(
                f"gcp credentials need the service-account key values {', '.join(missing)} "
                "(or option anonymous=True for a test endpoint)",
                field="credentials",
            )
        from google.oauth2 import service_account

        try:
            creds = service_account.Credentials.from_service_account_info(sa, scopes=SCOPES)
        except (ValueError, TypeError, KeyError) as exc:
            # The parser's message may quote key material: say only what kind of failure it was.
            raise InvalidRequest(
                f"gcp service-account key is malformed ({type(exc).__name__}); check private_key",
                field="credentials",
            ) from None
        return creds, project

    def client(self, name: str) -> Any:
        """An SDK client (e.g. 'InstancesClient'), made once per session."""
        cli = self._clients.get(name)
        if cli is None:
            cls = getattr(self.compute, name)
            cli = cls(credentials=self.credentials, transport="rest", client_options=self.client_options)
            self._clients[name] = cli
        return cli

    def close(self) -> None:
        for cli in self._clients.values():
            try:
                cli.transport.close()
            except Exception:  # closing is best effort: a dead session must not mask the caller's error
                log.debug("closing %s failed", type(cli).__name__, exc_info=True)
        self._clients.clear()

    @property
    def zone(self) -> str:
        """The connection's zone; without one, the region's first zone that is UP."""
        if self._zone is None:
            region = self.call("RegionsClient", "get", idempotent=True, project=self.project, region=self.region)
            zones = sorted(last(z) for z in region.zones)
            if not zones:
                raise InvalidRequest(f"gcp region {self.region!r} has no zones", field="zone")
            self._zone = zones[0]
        return self._zone

    # ------------------------------------------------------------------ the choke point
    def call(
        self, client: str, method: str, *, idempotent: bool = False, timeout: float | None = None, **kwargs: Any
    ) -> Any:
        """Call ``client.method(**kwargs)`` under the kit's retry policy (throttling always, server
        errors for idempotent calls); every SDK exception leaves as an mcinfra error. Lists come
        back as lists (every page fetched)."""
        what = f"{client.removesuffix('Client')}.{method.removesuffix('_unary')}"
        timeout = self.request_timeout if timeout is None else timeout
        fn: Callable[..., Any] = getattr(self.client(client), method)
        started = time.monotonic()

        def once() -> Any:
            try:
                out = fn(retry=None, timeout=timeout, **kwargs)  # retry=None: the kit's policy retries
                # A pager fetches later pages while iterated: fetch them here, inside the choke point.
                return list(out) if hasattr(out, "pages") else out
            except McInfraError:
                raise
            except Exception as exc:
                raise map_exception(exc, what) from exc

        try:
            out = self.retry.run(once, idempotent=idempotent, what=what)
        except McInfraError as exc:
            log.info("%s failed after %.1f ms: %s", what, (time.monotonic() - started) * 1000, type(exc).__name__)
            raise
        self.calls[what] = self.calls.get(what, 0) + 1
        log.debug("%s ok in %.1f ms", what, (time.monotonic() - started) * 1000)
        return out

    def mutate(self, client: str, method: str, **kwargs: Any) -> Any:
        """A ``*_unary`` mutation, waited for until its operation is DONE."""
        op = self.call(client, method, **kwargs)
        return self.wait(op, f"{client.removesuffix('Client')}.{method.removesuffix('_unary')}")

    def wait(self, op: Any, what: str) -> Any:
        done = self.compute.Operation.Status.DONE
        if op.status != done:
            if op.zone:
                ops, scope = "ZoneOperationsClient", {"zone": last(op.zone)}
            elif op.region:
                ops, scope = "RegionOperationsClient", {"region": last(op.region)}
            else:
                ops, scope = "GlobalOperationsClient", {}
            name = op.name
            # GCP's operations.wait holds the request up to ~2 minutes before answering RUNNING.
            wait_timeout = max(self.request_timeout, 150.0)
            deadline = time.monotonic() + self.op_timeout

            def poll() -> Any:
                budget = min(wait_timeout, max(deadline - time.monotonic(), 1.0))
                return self.call(ops, "wait", idempotent=True, timeout=budget, project=self.project,
                                 operation=name, **scope)

            # wait() returns early (at most ~2 min on GCP); don't spin on an endpoint that answers at once
            op = poll_until(poll, lambda o: o.status == done, timeout=self.op_timeout, interval=0.02,
                            max_interval=1.0, provider=PROVIDER, what=f"{what}: operation {name}")
        if op.error and list(op.error.errors):
            raise map_operation_error(op, what)
        return op

    # ------------------------------------------------------------------ links
    def network_link(self, name: str) -> str:
        return f"projects/{self.project}/global/networks/{name}"

    def subnet_link(self, name: str, region: str | None = None) -> str:
        return f"projects/{self.project}/regions/{region or self.region}/subnetworks/{name}"

    def instance_link(self, zone: str, name: str) -> str:
        return f"projects/{self.project}/zones/{zone}/instances/{name}"


__all__ = ["ERRORS", "PROVIDER", "GcpClient", "check_name", "last", "map_exception", "map_operation_error"]
