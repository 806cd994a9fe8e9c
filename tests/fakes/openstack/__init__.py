"""A loopback fake of an OpenStack cloud (Keystone, Nova, Neutron, Glance, Octavia), for the
OpenStack driver's tests.

``OpenStackFake`` is a :class:`tests.fakes.server.LoopbackFake` serving every service under one
port: Keystone at ``/identity`` hands out tokens whose catalog points back at the fake
(``/compute/v2.1``, ``/network``, ``/image``, ``/load-balancer``). Every answer is checked
against the services' published material before it leaves (see ``validate.py``); a failure is
answered with a 500 and listed in ``schema_errors``. Errors come in each service's own shape:
Nova ``{"itemNotFound": {"code", "message"}}``, Neutron ``{"NeutronError": {...}}``, Octavia
``{"faultcode", "faultstring", "debuginfo"}``, Keystone ``{"error": {...}}``.
"""

from __future__ import annotations

from typing import Any

from tests.fakes.openstack.checks import Checker
from tests.fakes.openstack.routes_compute import add_compute_routes
from tests.fakes.openstack.routes_identity import (
    Credentials,
    add_discovery_routes,
    add_identity_routes,
    add_image_routes,
)
from tests.fakes.openstack.routes_lb import add_lb_routes
from tests.fakes.openstack.routes_network import add_network_routes
from tests.fakes.openstack.state import PROJECT_ID, REGION, CloudState
from tests.fakes.openstack.validate import check_service_status
from tests.fakes.server import LoopbackFake, RouteTable

__all__ = ["PROJECT_ID", "REGION", "CloudState", "OpenStackFake"]

#: the newest microversion Nova 34.0.0 (the staged api samples) serves
NOVA_MAX = "2.104"

NOVA_FAULT_NAMES = {400: "badRequest", 401: "unauthorized", 403: "forbidden", 404: "itemNotFound",
                    405: "badMethod", 406: "notAcceptable", 409: "conflictingRequest", 413: "overLimit",
                    429: "overLimit", 500: "computeFault", 501: "notImplemented", 503: "serviceUnavailable"}
HTTP_TITLES = {400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 409: "Conflict",
               412: "Precondition Failed", 413: "Request Entity Too Large", 429: "Too Many Requests",
               500: "Internal Server Error", 503: "Service Unavailable"}


def service_of(path: str) -> str:
    for prefix, service in (("/compute", "compute"), ("/network", "network"), ("/load-balancer", "load-balancer"),
                            ("/image", "image"), ("/identity", "identity")):
        if path.startswith(prefix):
            return service
    return "identity"


class OpenStackFake(LoopbackFake):
    """The fake cloud. ``page_size`` caps every list page; ``build_polls`` is how many reads a
    server shows BUILD (or an action's in-between state); ``lb_polls`` how many reads a load
    balancer stays PENDING_* after a change."""

    def __init__(self, *, page_size: int = 1000, build_polls: int = 1, lb_polls: int = 1,
                 validate: bool = True) -> None:
        self.state = CloudState(page_size=page_size, build_polls=build_polls, lb_polls=lb_polls)
        self.credentials = Credentials()
        self.check = Checker(NOVA_MAX)
        self.check.enabled = validate
        t = RouteTable()
        add_identity_routes(t, self.check, self.state, self.credentials, lambda: self.url)
        add_discovery_routes(t, self.check, NOVA_MAX, lambda: self.url)
        add_image_routes(t, self.check, self.state)
        add_compute_routes(t, self.check, self.state, lambda: self.url)
        add_network_routes(t, self.check, self.state, lambda: self.url)
        add_lb_routes(t, self.check, self.state, lambda: self.url)
        super().__init__(t, error_body=self._error_body)
        # the base class's list: the Checker appends its findings to the same one
        self.schema_errors = self.check.errors

    # ------------------------------------------------------------ error shapes
    def _error_body(self, status: int, reason: str, message: str) -> Any:
        # runs under the server's lock, right after the request was recorded
        path = self.requests[-1].path if self.requests else ""
        service = service_of(path)
        if reason != "fakeSchemaError":
            try:
                check_service_status(service, status)
            except AssertionError as exc:
                self.check.errors.append(f"{path}: {exc}")
        if service == "compute":
            name = NOVA_FAULT_NAMES.get(status, "computeFault")
            return {name: {"code": status, "message": message}}
        if service == "network":
            generic = reason in ("backendError", "notFound", "nova", "octavia", "injected", "fakeSchemaError")
            kind = (("HTTPNotFound" if status == 404 else HTTP_TITLES.get(status, "Error").replace(" ", ""))
                    if generic else reason)
            return {"NeutronError": {"type": kind, "message": message, "detail": ""}}
        if service == "load-balancer":
            return {"faultcode": "Client" if status < 500 else "Server", "faultstring": message, "debuginfo": None}
        if service == "image":
            return {"code": status, "title": HTTP_TITLES.get(status, "Error"), "message": message}
        return {"error": {"code": status, "title": HTTP_TITLES.get(status, "Error"), "message": message}}

    # ------------------------------------------------------------ test helpers
    def reset(self) -> None:
        """Drop every resource, recorded request and injected fault (the catalog is re-seeded)."""
        with self._lock:
            self.state.reset()
            self.requests.clear()
            self._faults.clear()

    def fail_next_server(self, message: str = "No valid host was found. ") -> None:
        """The next server create is accepted (202) and then ends in ERROR with this fault."""
        with self._lock:
            self.state.fail_next["server_create"] = message

    def fail_next_load_balancer(self) -> None:
        """The next load balancer create is accepted (201) and then ends in provisioning ERROR."""
        with self._lock:
            self.state.fail_next["lb_create"] = "ERROR"

    def auth_url(self) -> str:
        return f"{self.url}/identity/v3"

    def connect_kwargs(self) -> dict[str, Any]:
        """What ``openstack.connect`` needs to log in to this fake (and nothing from the environment)."""
        return {"auth_url": self.auth_url(), "username": "admin", "password": self.credentials.users["admin"],
                "project_name": self.credentials.project, "user_domain_name": "Default",
                "project_domain_name": "Default", "region_name": REGION, "load_yaml_config": False,
                "load_envvars": False}
