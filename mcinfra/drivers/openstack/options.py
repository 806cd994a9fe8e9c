"""The OpenStack driver's connection options."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from mcinfra.drivers.kit import DriverOptions, RateDefault


class OpenStackOptions(DriverOptions):
    """``infra.connections.add(..., options={...})`` for ``provider="openstack"``."""

    #: OpenStack has no cloud-wide limit: each operator configures its own; a conservative 10/s
    #: (docs/openstack.md)
    RATE_DEFAULT: ClassVar[RateDefault] = RateDefault(
        10.0, 10, "operator-defined (nova/neutron api rate limiting is configured per cloud)"
    )

    #: the external (provider) network for router gateways and floating IPs, by name or id;
    #: None: the project's only ``router:external`` network
    external_network: str | None = None
    #: give every VM a floating IP from the external network (its public IP)
    floating_ip: bool = True
    #: Keystone endpoint interface the service URLs come from
    interface: Literal["public", "internal", "admin"] = "public"
    #: verify TLS certificates; ``cacert`` is a CA bundle path
    verify: bool = True
    cacert: str | None = None
    #: seconds between two status reads while waiting (servers, load balancers); doubles up to
    #: ``max_poll_interval``
    poll_interval: float = Field(1.0, gt=0, le=60)
    max_poll_interval: float = Field(5.0, gt=0, le=300)
    #: seconds a server may take to become ACTIVE (or go away), a load balancer to leave PENDING_*
    wait_timeout: float = Field(600.0, gt=0, le=7200)
    #: Octavia provider driver (None: the cloud's default, usually amphora) and pool algorithm
    lb_provider: str | None = None
    lb_algorithm: Literal["ROUND_ROBIN", "LEAST_CONNECTIONS", "SOURCE_IP"] = "ROUND_ROBIN"
    #: HTTP timeout of one API call in seconds
    api_timeout: float = Field(60.0, gt=0, le=600)
