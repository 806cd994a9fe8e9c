"""Pydantic models: the requests users make and the infos every call returns.

One set of models serves both sides of the core. Between the core and a driver, a
reference to another resource (an SG's ``vpc``, a VM's ``subnet``...) holds that
resource's CSP system id; the managers rewrite it to the user's name before the model
reaches a user. A resource's own ``iid`` is ``IID(csp_name, system_id)`` at the driver
and ``IID(user_name, system_id)`` for users.
"""

from __future__ import annotations

import functools
import ipaddress
import re
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: A user name: a letter, then letters, digits, '-' or '_'; 1..63 characters.
# \Z, not $: "$" also matches before a trailing newline, and "vpc-01\n" is not "vpc-01"
NAME_PATTERN = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,62}\Z")
NAME_RULE = "1-63 characters: a letter, then letters, digits, '-' or '_'"


class Kind(StrEnum):
    """What a resource (or catalog) is. A ``StrEnum``: ``Kind.VPC == "vpc"``, as stored."""

    VPC = "vpc"
    SUBNET = "subnet"
    SECURITY_GROUP = "security_group"
    KEYPAIR = "keypair"
    VM = "vm"
    NLB = "nlb"
    REGION_ZONE = "region_zone"
    IMAGE = "image"
    SPEC = "spec"
    PRICE = "price"

    @property
    def label(self) -> str:
        """How messages name the kind ("security group", "VPC")."""
        return _KIND_LABELS.get(self, self.value.replace("_", " "))


_KIND_LABELS = {Kind.VPC: "VPC", Kind.VM: "VM", Kind.NLB: "NLB", Kind.KEYPAIR: "key pair",
                Kind.REGION_ZONE: "region/zone"}


def subnet_ref(vpc: str, subnet: str) -> str:
    """How a reference names a subnet: subnet names are unique per VPC, not per connection."""
    return f"{vpc}/{subnet}"


class Model(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True, str_strip_whitespace=True)

    def _repr_html_(self) -> str | None:
        """A notebook shows a result as a one-row table with the CLI's columns (None: plain repr)."""
        from mcinfra.core.display import html_of

        return html_of([self])

    def __rich__(self) -> Any:
        from mcinfra.core.display import rich_of

        return rich_of([self]) or repr(self)


def check_name(value: str, what: str = "name") -> str:
    if not isinstance(value, str) or not NAME_PATTERN.match(value):
        raise ValueError(f"{what} {value!r} is invalid: {NAME_RULE}")
    return value


def normalize_cidr(value: str, *, version: int | None = None) -> str:
    if not isinstance(value, str):  # ipaddress would take an int (or a bool) as an address
        raise ValueError(f"{value!r} is not a valid CIDR (a string such as '10.0.0.0/16')")
    return _normalized_cidr(value, version)


@functools.lru_cache(maxsize=4096)
def _normalized_cidr(value: str, version: int | None) -> str:
    """Parsing is ~3 us a CIDR and every rule model validates one; a failure is not cached."""
    try:
        net = ipaddress.ip_network(value, strict=False)
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{value!r} is not a valid CIDR") from exc
    if version and net.version != version:
        raise ValueError(f"{value!r} is not an IPv{version} CIDR")
    return str(net)


class IID(Model):
    """A resource's identity: the name it is known by and the CSP's own id."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name_id: str
    system_id: str = ""


# ---------------------------------------------------------------- VPC / subnet
class SubnetReq(Model):
    name: str
    cidr: str
    zone: str | None = None

    _name = field_validator("name")(lambda v: check_name(v, "subnet name"))
    _cidr = field_validator("cidr")(lambda v: normalize_cidr(v, version=4))


class SubnetInfo(Model):
    iid: IID
    cidr: str
    zone: str | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class VPCReq(Model):
    """Driver request: ``name`` and subnet names are CSP-side names."""

    name: str
    cidr: str
    subnets: list[SubnetReq] = Field(default_factory=list)


class VPCInfo(Model):
    iid: IID
    cidr: str
    subnets: list[SubnetInfo] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


def check_subnets_fit(vpc_cidr: str, subnets: list[SubnetReq]) -> None:
    """Every subnet inside the VPC CIDR and none overlapping another."""
    vpc_net = ipaddress.ip_network(vpc_cidr)
    seen: list[tuple[str, ipaddress.IPv4Network | ipaddress.IPv6Network]] = []
    names: set[str] = set()
    for sn in subnets:
        net = ipaddress.ip_network(sn.cidr)
        if net.version != vpc_net.version or not net.subnet_of(vpc_net):  # type: ignore[arg-type]
            raise ValueError(f"subnet {sn.name!r} CIDR {sn.cidr} is not inside the VPC CIDR {vpc_cidr}")
        for other_name, other in seen:
            if net.overlaps(other):
                raise ValueError(f"subnet {sn.name!r} CIDR {sn.cidr} overlaps subnet {other_name!r} ({other})")
        if sn.name in names:
            raise ValueError(f"subnet name {sn.name!r} is given twice")
        names.add(sn.name)
        seen.append((sn.name, net))


# ---------------------------------------------------------------- security group
class SecurityRule(Model):
    """One allow rule. TCP/UDP take ports 1..65535; ALL and ICMP take -1 (all).

    An empty CIDR means 0.0.0.0/0. Two rules are the same rule when all five fields are equal.
    """

    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)
    direction: Literal["inbound", "outbound"]
    protocol: Literal["ALL", "TCP", "UDP", "ICMP"]
    from_port: int = -1
    to_port: int = -1
    cidr: str = "0.0.0.0/0"

    @field_validator("direction", mode="before")
    @classmethod
    def _direction(cls, v: Any) -> Any:
        return v.strip().lower() if isinstance(v, str) else v

    @field_validator("protocol", mode="before")
    @classmethod
    def _protocol(cls, v: Any) -> Any:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("cidr", mode="before")
    @classmethod
    def _cidr(cls, v: Any) -> Any:
        if v is None or (isinstance(v, str) and not v.strip()):
            return "0.0.0.0/0"
        return normalize_cidr(v)

    @field_validator("from_port", "to_port", mode="before")
    @classmethod
    def _port(cls, v: Any) -> Any:
        if isinstance(v, str) and v.strip().lstrip("-").isdigit():
            return int(v)
        return v

    @model_validator(mode="after")
    def _ports(self) -> SecurityRule:
        if self.protocol in ("ALL", "ICMP"):
            if (self.from_port, self.to_port) != (-1, -1):
                raise ValueError(f"{self.protocol} rules take from_port=-1 and to_port=-1")
        else:
            for p in (self.from_port, self.to_port):
                if not 1 <= p <= 65535:
                    raise ValueError(f"{self.protocol} port {p} is outside 1..65535")
            if self.from_port > self.to_port:
                raise ValueError(f"from_port {self.from_port} is greater than to_port {self.to_port}")
        return self

    def __str__(self) -> str:
        ports = "all" if self.from_port == -1 else f"{self.from_port}-{self.to_port}"
        return f"{self.direction} {self.protocol} {ports} {self.cidr}"


#: What a new security group allows besides the rules given: all outbound traffic.
DEFAULT_OUTBOUND_RULE = SecurityRule(direction="outbound", protocol="ALL", cidr="0.0.0.0/0")


def dedupe_rules(rules: list[SecurityRule]) -> list[SecurityRule]:
    return list(dict.fromkeys(rules))


class SecurityGroupReq(Model):
    """Driver request: make an SG whose rules are exactly ``rules`` (nothing implicit)."""

    name: str
    vpc: str
    rules: list[SecurityRule] = Field(default_factory=list)


class SecurityGroupInfo(Model):
    iid: IID
    vpc: str
    rules: list[SecurityRule] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- key pair
class KeyPairReq(Model):
    name: str
    public_key: str | None = None


class KeyPairInfo(Model):
    iid: IID
    fingerprint: str = ""
    public_key: str = ""
    #: Returned by create only; never stored, never shown by get/list.
    private_key: str | None = Field(default=None, repr=False)
    vm_user: str = "cb-user"
    extra: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- VM
class VMStatus(StrEnum):
    CREATING = "Creating"
    RUNNING = "Running"
    SUSPENDING = "Suspending"
    SUSPENDED = "Suspended"
    RESUMING = "Resuming"
    REBOOTING = "Rebooting"
    TERMINATING = "Terminating"
    TERMINATED = "Terminated"
    FAILED = "Failed"
    NOT_EXIST = "NotExist"


class VMReq(Model):
    """Driver request. References are CSP system ids; ``public_key`` is the key pair's
    public key (drivers of CSPs without key-pair objects inject it themselves)."""

    name: str
    image: str
    spec: str
    vpc: str
    subnet: str
    security_groups: list[str] = Field(default_factory=list)
    keypair: str
    public_key: str | None = None
    zone: str | None = None
    root_disk_type: str | None = None
    root_disk_size: int | None = None
    vm_user: str = "cb-user"


class VMInfo(Model):
    iid: IID
    status: VMStatus = VMStatus.RUNNING
    region: str = ""
    zone: str | None = None
    public_ip: str | None = None
    private_ip: str | None = None
    ssh_port: int = 22
    vm_user: str = "cb-user"
    image: str = ""
    spec: str = ""
    vpc: str = ""
    subnet: str = ""
    security_groups: list[str] = Field(default_factory=list)
    keypair: str = ""
    root_disk_type: str | None = None
    root_disk_size: int | None = None
    created_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- NLB
NLBProtocol = Literal["TCP", "UDP"]


def _upper(v: Any) -> Any:
    return v.strip().upper() if isinstance(v, str) else v


def _check_port(v: int) -> int:
    if not 1 <= v <= 65535:
        raise ValueError(f"port {v} is outside 1..65535")
    return v


class Listener(Model):
    protocol: NLBProtocol = "TCP"
    port: int
    ip: str | None = None
    dns_name: str | None = None

    _p = field_validator("protocol", mode="before")(_upper)
    _port = field_validator("port")(_check_port)


class VMGroup(Model):
    """The NLB's targets. ``vms`` are VM names for users, CSP ids at the driver."""

    protocol: NLBProtocol = "TCP"
    port: int
    vms: list[str] = Field(default_factory=list)

    _p = field_validator("protocol", mode="before")(_upper)
    _port = field_validator("port")(_check_port)


#: CB-Spider's defaults for a health checker left at -1: (interval, timeout, threshold).
HEALTH_DEFAULTS = {"TCP": (10, 10, 3), "HTTP": (10, 6, 3)}


class HealthChecker(Model):
    """Health check of the VM group. -1 for interval/timeout/threshold means the default
    (TCP 10/10/3, HTTP 10/6/3); port -1 means the VM group's port."""

    protocol: Literal["TCP", "HTTP"] = "TCP"
    port: int = -1
    interval: int = -1
    timeout: int = -1
    threshold: int = -1

    _p = field_validator("protocol", mode="before")(_upper)

    @model_validator(mode="after")
    def _check(self) -> HealthChecker:
        if self.port != -1 and not 1 <= self.port <= 65535:
            raise ValueError(f"health check port {self.port} is outside 1..65535")
        for field in ("interval", "timeout", "threshold"):
            v = getattr(self, field)
            if v != -1 and v < 1:
                raise ValueError(f"health check {field} must be >= 1 (or -1 for the default), got {v}")
        return self

    def with_defaults(self, vm_group_port: int) -> HealthChecker:
        interval, timeout, threshold = HEALTH_DEFAULTS[self.protocol]
        return HealthChecker(
            protocol=self.protocol,
            port=vm_group_port if self.port == -1 else self.port,
            interval=interval if self.interval == -1 else self.interval,
            timeout=timeout if self.timeout == -1 else self.timeout,
            threshold=threshold if self.threshold == -1 else self.threshold,
        )


class NLBReq(Model):
    """Driver request: ``vpc`` and ``vm_group.vms`` are CSP system ids; health checker has no -1 left."""

    name: str
    vpc: str
    type: Literal["PUBLIC", "INTERNAL"] = "PUBLIC"
    scope: Literal["REGION", "GLOBAL"] = "REGION"
    listener: Listener
    vm_group: VMGroup
    health_checker: HealthChecker


class NLBInfo(Model):
    iid: IID
    vpc: str
    type: Literal["PUBLIC", "INTERNAL"] = "PUBLIC"
    scope: Literal["REGION", "GLOBAL"] = "REGION"
    listener: Listener
    vm_group: VMGroup
    health_checker: HealthChecker
    created_at: datetime | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class HealthInfo(Model):
    all: list[str] = Field(default_factory=list)
    healthy: list[str] = Field(default_factory=list)
    unhealthy: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------- catalogs
class ZoneStatus(StrEnum):
    AVAILABLE = "Available"
    UNAVAILABLE = "Unavailable"
    NOT_SUPPORTED = "StatusNotSupported"


class ZoneInfo(Model):
    name: str
    display_name: str = ""
    status: ZoneStatus = ZoneStatus.AVAILABLE
    extra: dict[str, Any] = Field(default_factory=dict)


class RegionZoneInfo(Model):
    name: str
    display_name: str = ""
    zones: list[ZoneInfo] = Field(default_factory=list)
    extra: dict[str, Any] = Field(default_factory=dict)


class ImageInfo(Model):
    iid: IID
    name: str = ""
    os_architecture: str = "NA"
    os_platform: str = "NA"
    os_distribution: str = ""
    os_disk_type: str = "NA"
    os_disk_size_gb: int | None = None
    status: Literal["Available", "Unavailable", "NA"] = "Available"
    extra: dict[str, Any] = Field(default_factory=dict)


class GpuInfo(Model):
    count: int
    manufacturer: str = ""
    model: str = ""
    memory_gb: float | None = None


class SpecInfo(Model):
    name: str
    region: str = ""
    vcpus: int
    clock_ghz: float | None = None
    memory_mib: int
    disk_gb: int | None = None
    gpus: list[GpuInfo] = Field(default_factory=list)
    architecture: str = "x86_64"
    price_per_hour: float | None = None
    extra: dict[str, Any] = Field(default_factory=dict)


class PriceInfo(Model):
    """The on-demand price of one VM spec in one region (optionally one zone), as the CSP
    publishes it: ``price_per_hour`` in ``currency`` (ISO 4217), no conversion."""

    spec: str
    region: str = ""
    zone: str | None = None
    price_per_hour: float = Field(ge=0)
    currency: str = "USD"
    #: what the price covers: the OS licence and the tenancy the CSP priced
    os: str = "Linux"
    #: where the figure came from ("aws-price-list", "mock-seed", ...), for docs and freshness
    source: str = ""
    extra: dict[str, Any] = Field(default_factory=dict)


# ---------------------------------------------------------------- store-side views
class ListAll(Model):
    """What the store maps and the CSP has (``mapped``), what only the CSP has
    (``only_csp``: CSP-side IIDs) and what only the store has (``only_store``)."""

    mapped: list[IID] = Field(default_factory=list)
    only_csp: list[IID] = Field(default_factory=list)
    only_store: list[IID] = Field(default_factory=list)


class CallRecord(Model):
    at: datetime
    connection: str
    provider: str
    operation: str
    kind: str
    name: str
    duration_ms: float
    ok: bool
    error: str | None = None


class ReconcileReport(Model):
    """What ``reconcile()`` did with each row a crash left (labelled connection/kind/name):
    pending rows ``finished`` (the CSP had made it) or ``rolled_back`` (it had not); deleting
    rows ``deleted`` (the CSP still had it: deleted now, row dropped) or ``forgotten`` (the CSP
    had deleted it: row dropped); ``failed``: left for the next run, with the reason."""

    finished: list[str] = Field(default_factory=list)
    rolled_back: list[str] = Field(default_factory=list)
    deleted: list[str] = Field(default_factory=list)
    forgotten: list[str] = Field(default_factory=list)
    failed: dict[str, str] = Field(default_factory=dict)


class DestroyReport(Model):
    all_destroyed: bool
    deleted: dict[str, list[str]] = Field(default_factory=dict)
    remaining: dict[str, dict[str, str]] = Field(default_factory=dict)
