"""What a driver implements: ``CloudDriver`` -> ``DriverSession`` -> one handler per kind.

Handlers speak CSP ids and the models of :mod:`mcinfra.core.models`. They know nothing of
the store, locks, user names or other connections. Contract every handler keeps:

- ``get``/``delete`` of an id the CSP does not have raise :class:`~mcinfra.errors.NotFound`;
- a create whose name the CSP already has raises ``AlreadyExists``; a delete the CSP refuses
  because something depends on it raises ``InUse``; any other CSP refusal raises
  ``CloudError(provider, code, message)`` with the SDK exception chained;
- a create that fails half-way removes what it made before raising;
- ``list_iids`` returns ``IID(csp_name, system_id)`` for every resource of the kind.
"""

from __future__ import annotations

import importlib.util
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mcinfra.core.errors import DriverNotInstalled, Unsupported
from mcinfra.core.models import (
    IID,
    HealthChecker,
    HealthInfo,
    ImageInfo,
    KeyPairInfo,
    KeyPairReq,
    Listener,
    NLBInfo,
    NLBReq,
    PriceInfo,
    RegionZoneInfo,
    SecurityGroupInfo,
    SecurityGroupReq,
    SecurityRule,
    SpecInfo,
    SubnetReq,
    VMGroup,
    VMInfo,
    VMReq,
    VMStatus,
    VPCInfo,
    VPCReq,
)


def module_installed(name: str) -> bool:
    """Whether ``name`` (dotted) can be imported, found on disk without importing it or its parents,
    so that ``infra.providers()`` loads no SDK."""
    top, *rest = name.split(".")
    spec = importlib.util.find_spec(top)
    if spec is None or not rest:
        return spec is not None
    roots = [Path(p) for p in (spec.submodule_search_locations or [])]
    sub = Path(*rest)
    return any((r / sub / "__init__.py").is_file() or (r / sub).is_dir() or (r / f"{sub}.py").is_file()
               for r in roots)


class NameRules(BaseModel):
    """How a CSP wants resource names: the core builds ``<cooked user name>-<suffix>`` within them."""

    model_config = ConfigDict(frozen=True)
    max_length: int = 63
    #: per-kind overrides of max_length, e.g. {"keypair": 255}
    max_length_by_kind: dict[str, int] = Field(default_factory=dict)
    lowercase: bool = True
    #: the character that joins words and the suffix ("-", or "_" for Tencent)
    separator: str = "-"
    #: prefixes the CSP reserves (AWS: "sg-"); the core never generates them
    reserved_prefixes: tuple[str, ...] = ()


class Capabilities(BaseModel):
    model_config = ConfigDict(frozen=True)
    #: what the driver answers; "price" (optional) is off unless the driver adds it
    kinds: frozenset[str] = frozenset(
        {"vpc", "security_group", "keypair", "vm", "nlb", "region_zone", "image", "spec"}
    )
    zone_based: bool = True
    vpc_cidr: bool = True
    #: the NLB scopes the CSP offers (a GLOBAL request elsewhere is ``Unsupported``, not made regional)
    nlb_scopes: frozenset[str] = frozenset({"REGION"})
    #: the CSP keeps key pairs itself (False: the core stores the public key for VM starts)
    keypair_objects: bool = True
    name_rules: NameRules = NameRules()


class SessionInfo(BaseModel):
    """What a driver gets to connect: credential values are ``SecretStr`` and never printed."""

    model_config = ConfigDict(frozen=True)
    name: str
    provider: str
    credentials: dict[str, SecretStr] = Field(default_factory=dict)
    region: str | None = None
    zone: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    def secret(self, key: str, default: str | None = None) -> str | None:
        """A credential value, looked up case-insensitively."""
        for k, v in self.credentials.items():
            if k.lower() == key.lower():
                return v.get_secret_value()
        return default


class ResourceHandler(Protocol):
    """What every handler of a stored kind (vpc, security_group, keypair, vm, nlb) answers."""

    def get(self, iid: IID) -> Any: ...
    def list(self) -> Sequence[Any]: ...
    def list_iids(self) -> list[IID]: ...


class VPCHandler(ABC):
    """VPCs (VNet, Neutron network...) with their subnets."""

    @abstractmethod
    def create(self, req: VPCReq) -> VPCInfo:
        """Create the VPC named ``req.name`` (CSP-side name) with ``req.subnets`` (CSP-side names,
        zones filled in). Returns it with every subnet; ``AlreadyExists`` if the name is taken."""

    @abstractmethod
    def get(self, iid: IID) -> VPCInfo:
        """The VPC with CSP id ``iid.system_id`` and its subnets; ``NotFound`` if the CSP has none."""

    @abstractmethod
    def list(self) -> list[VPCInfo]:
        """Every VPC of the connection's region (all pages), with subnets."""

    @abstractmethod
    def delete(self, iid: IID) -> None:
        """Delete the VPC and its subnets (and what the driver made for it, e.g. a router or an
        internet gateway). ``NotFound`` if gone; ``InUse`` if the CSP still has dependents."""

    @abstractmethod
    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo:
        """Add ``subnet`` (CSP-side name, zone filled in) to the VPC; returns the VPC as it is now."""

    @abstractmethod
    def remove_subnet(self, vpc: IID, subnet: IID) -> None:
        """Remove one subnet of the VPC. ``NotFound`` if gone; ``InUse`` if something still uses it."""

    def list_iids(self) -> list[IID]:
        """``IID(csp_name, system_id)`` of every VPC (override when cheaper than ``list``)."""
        return [v.iid for v in self.list()]


class SecurityGroupHandler(ABC):
    """Security groups with their exact rule sets (see the handler contract above)."""

    @abstractmethod
    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo:
        """Create the group in VPC ``req.vpc`` (CSP id) with exactly ``req.rules`` in effect
        (CSP default rules the request does not list are removed or hidden)."""

    @abstractmethod
    def get(self, iid: IID) -> SecurityGroupInfo:
        """The group with its rules in effect, normalised; ``NotFound`` if the CSP has none."""

    @abstractmethod
    def list(self) -> list[SecurityGroupInfo]:
        """Every security group of the region (all pages)."""

    @abstractmethod
    def delete(self, iid: IID) -> None:
        """Delete the group. ``NotFound`` if gone; ``InUse`` if a VM or NIC still has it."""

    @abstractmethod
    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        """Add rules the group does not have yet (the core filters out present ones); returns the group."""

    @abstractmethod
    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo:
        """Remove rules the group has (the core checked they are there); returns the group."""

    def list_iids(self) -> list[IID]:
        """``IID(csp_name, system_id)`` of every security group."""
        return [v.iid for v in self.list()]


class KeyPairHandler(ABC):
    """SSH key pairs (``Capabilities.keypair_objects=False``: only ``create`` is called)."""

    @abstractmethod
    def create(self, req: KeyPairReq) -> KeyPairInfo:
        """Create (or import, when ``req.public_key`` is set); the info carries the private key
        only when the key was generated here. ``AlreadyExists`` if the name is taken."""

    @abstractmethod
    def get(self, iid: IID) -> KeyPairInfo:
        """The key pair (public key and fingerprint, never a private key); ``NotFound`` if none."""

    @abstractmethod
    def list(self) -> list[KeyPairInfo]:
        """Every key pair of the region."""

    @abstractmethod
    def delete(self, iid: IID) -> None:
        """Delete the key pair; ``NotFound`` if gone. VMs started with it keep working."""

    def list_iids(self) -> list[IID]:
        """``IID(csp_name, system_id)`` of every key pair."""
        return [v.iid for v in self.list()]


class VMHandler(ABC):
    """Virtual machines. Control calls return the transitional status; the core waits."""

    @abstractmethod
    def start(self, req: VMReq) -> VMInfo:
        """Start a VM from ``req`` (every reference a CSP id; ``req.public_key`` set when the CSP
        has no key-pair objects). May return before it runs (status CREATING); a half-made
        start (NIC, IP, disk) is rolled back before raising."""

    @abstractmethod
    def get(self, iid: IID) -> VMInfo:
        """The VM with addresses and current status; ``NotFound`` if the CSP has none."""

    @abstractmethod
    def list(self) -> list[VMInfo]:
        """Every VM of the region (all pages), terminated ones left out."""

    @abstractmethod
    def status(self, iid: IID) -> VMStatus:
        """The VM's status; ``NOT_EXIST`` (not an error) for a VM the CSP no longer has."""

    @abstractmethod
    def suspend(self, iid: IID) -> VMStatus:
        """Stop the VM (keeping its disk; the driver's docs say what still bills); returns SUSPENDING/SUSPENDED."""

    @abstractmethod
    def resume(self, iid: IID) -> VMStatus:
        """Start a suspended VM again; returns RESUMING/RUNNING (its public IP may change)."""

    @abstractmethod
    def reboot(self, iid: IID) -> VMStatus:
        """Restart a running VM; returns REBOOTING/RUNNING."""

    @abstractmethod
    def terminate(self, iid: IID) -> VMStatus:
        """Delete the VM and what the driver made for it (NIC, public IP, OS disk); returns
        TERMINATING/TERMINATED. ``NotFound`` if gone."""

    def statuses(self) -> dict[str, VMStatus]:
        """system_id -> status for every VM."""
        return {v.iid.system_id: v.status for v in self.list()}

    def list_iids(self) -> list[IID]:
        """``IID(csp_name, system_id)`` of every VM."""
        return [v.iid for v in self.list()]


class NLBHandler(ABC):
    """Network load balancers: listener, VM group (backend pool) and health checker."""

    @abstractmethod
    def create(self, req: NLBReq) -> NLBInfo:
        """Create the NLB in ``req.vpc`` (CSP id) with its listener, VM group (VM CSP ids) and
        health checker (defaults filled in by the core); half-made creates are rolled back."""

    @abstractmethod
    def get(self, iid: IID) -> NLBInfo:
        """The NLB with listener address, VM group and health checker; ``NotFound`` if none."""

    @abstractmethod
    def list(self) -> list[NLBInfo]:
        """Every NLB of the region."""

    @abstractmethod
    def delete(self, iid: IID) -> None:
        """Delete the NLB and every part the driver made for it; ``NotFound`` if gone."""

    @abstractmethod
    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        """Add VMs (CSP ids) to the VM group; returns the group as it is now."""

    @abstractmethod
    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup:
        """Remove VMs (CSP ids, members: the core checked) from the group; returns the group."""

    @abstractmethod
    def health(self, iid: IID) -> HealthInfo:
        """Each member VM (CSP id) as healthy or unhealthy, as the CSP last saw it."""

    @abstractmethod
    def change_listener(self, iid: IID, listener: Listener) -> Listener:
        """Change the listener's protocol/port; returns it with the NLB's address."""

    @abstractmethod
    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        """Change the group's protocol/port (its VM list is left as it is)."""

    @abstractmethod
    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker:
        """Change the health checker (every field filled in by the core); returns it as the CSP has it."""

    def list_iids(self) -> list[IID]:
        """``IID(csp_name, system_id)`` of every NLB."""
        return [v.iid for v in self.list()]


class RegionZoneHandler(ABC):
    @abstractmethod
    def list(self) -> list[RegionZoneInfo]:
        """Every region the credential can use, each with its zones and their status."""

    def get(self, name: str) -> RegionZoneInfo:
        """One region by its CSP name; ``NotFound`` if unknown."""
        from mcinfra.core.errors import NotFound

        for r in self.list():
            if r.name == name:
                return r
        raise NotFound(f"region {name!r} not found")


class ImageHandler(ABC):
    @abstractmethod
    def list(self) -> list[ImageInfo]:
        """Public images usable in the region (the driver's docs say which owners/projects)."""

    @abstractmethod
    def get(self, name: str) -> ImageInfo:
        """One image by the CSP's id or name (what ``VMReq.image`` takes); ``NotFound`` if unknown."""


class SpecHandler(ABC):
    @abstractmethod
    def list(self) -> list[SpecInfo]:
        """Every VM spec (instance type, flavor, size) offered in the region."""

    @abstractmethod
    def get(self, name: str) -> SpecInfo:
        """One spec by its CSP name (what ``VMReq.spec`` takes); ``NotFound`` if unknown."""


class PriceHandler(ABC):
    """Optional: on-demand VM prices. A driver that has it adds ``"price"`` to
    ``Capabilities.kinds`` and returns one from ``DriverSession.prices()``."""

    @abstractmethod
    def list(self) -> list[PriceInfo]:
        """The on-demand (Linux, shared tenancy) price of every spec offered in the region."""

    def get(self, name: str) -> PriceInfo:
        """The price of one spec by its CSP name; ``NotFound`` if the CSP publishes none."""
        from mcinfra.core.errors import NotFound

        for p in self.list():
            if p.spec == name:
                return p
        raise NotFound(f"no price for spec {name!r}")


class DriverSession:
    """One connection's handlers. A kind the driver lacks raises ``Unsupported``."""

    def __init__(self, info: SessionInfo) -> None:
        self.info = info

    def _unsupported(self, kind: str) -> Unsupported:
        return Unsupported(f"driver '{self.info.provider}' has no {kind} handler")

    def vpcs(self) -> VPCHandler:
        raise self._unsupported("vpc")

    def security_groups(self) -> SecurityGroupHandler:
        raise self._unsupported("security_group")

    def keypairs(self) -> KeyPairHandler:
        raise self._unsupported("keypair")

    def vms(self) -> VMHandler:
        raise self._unsupported("vm")

    def nlbs(self) -> NLBHandler:
        raise self._unsupported("nlb")

    def region_zones(self) -> RegionZoneHandler:
        raise self._unsupported("region_zone")

    def images(self) -> ImageHandler:
        raise self._unsupported("image")

    def specs(self) -> SpecHandler:
        raise self._unsupported("spec")

    def prices(self) -> PriceHandler:
        raise self._unsupported("price")

    def close(self) -> None:
        """Release SDK clients; called when the core's Connection closes."""


class CloudDriver(ABC):
    """A provider's plugin. Import the CSP SDK inside ``connect``, never at module import."""

    provider: str = ""
    #: the pip extra that installs this driver's SDK
    extra: str = ""
    #: True: this class replaces another plugin's driver of the same provider (else that is an error)
    overrides: bool = False
    #: modules the driver's SDK must provide, e.g. ("boto3",) or ("tencentcloud.cvm.v20170312",)
    requires: tuple[str, ...] = ()

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def check_installed(self) -> str | None:
        """``None`` when usable here, else what is missing (shown by ``infra.providers()``).
        Default: every module of ``requires`` is found, without importing any of them."""
        missing = next((m for m in self.requires if not module_installed(m)), None)
        return f"{missing} is not installed" if missing else None

    def require_installed(self) -> None:
        """Raise ``DriverNotInstalled`` (naming the extra) unless :meth:`check_installed` passes."""
        missing = self.check_installed()
        if missing:
            raise DriverNotInstalled(self.provider, self.extra or None, missing)

    @abstractmethod
    def connect(self, info: SessionInfo) -> DriverSession: ...
