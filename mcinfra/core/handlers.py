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

from abc import ABC, abstractmethod
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, SecretStr

from mcinfra.core.errors import Unsupported
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
    kinds: frozenset[str] = frozenset(
        {"vpc", "security_group", "keypair", "vm", "nlb", "region_zone", "image", "spec"}
    )
    zone_based: bool = True
    vpc_cidr: bool = True
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


class VPCHandler(ABC):
    @abstractmethod
    def create(self, req: VPCReq) -> VPCInfo: ...
    @abstractmethod
    def get(self, iid: IID) -> VPCInfo: ...
    @abstractmethod
    def list(self) -> list[VPCInfo]: ...
    @abstractmethod
    def delete(self, iid: IID) -> None: ...
    @abstractmethod
    def add_subnet(self, vpc: IID, subnet: SubnetReq) -> VPCInfo: ...
    @abstractmethod
    def remove_subnet(self, vpc: IID, subnet: IID) -> None: ...

    def list_iids(self) -> list[IID]:
        return [v.iid for v in self.list()]


class SecurityGroupHandler(ABC):
    @abstractmethod
    def create(self, req: SecurityGroupReq) -> SecurityGroupInfo: ...
    @abstractmethod
    def get(self, iid: IID) -> SecurityGroupInfo: ...
    @abstractmethod
    def list(self) -> list[SecurityGroupInfo]: ...
    @abstractmethod
    def delete(self, iid: IID) -> None: ...
    @abstractmethod
    def add_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo: ...
    @abstractmethod
    def remove_rules(self, iid: IID, rules: list[SecurityRule]) -> SecurityGroupInfo: ...

    def list_iids(self) -> list[IID]:
        return [v.iid for v in self.list()]


class KeyPairHandler(ABC):
    @abstractmethod
    def create(self, req: KeyPairReq) -> KeyPairInfo:
        """Create (or import, when ``req.public_key`` is set); the info carries the private key
        only when the key was generated here."""

    @abstractmethod
    def get(self, iid: IID) -> KeyPairInfo: ...
    @abstractmethod
    def list(self) -> list[KeyPairInfo]: ...
    @abstractmethod
    def delete(self, iid: IID) -> None: ...

    def list_iids(self) -> list[IID]:
        return [v.iid for v in self.list()]


class VMHandler(ABC):
    @abstractmethod
    def start(self, req: VMReq) -> VMInfo: ...
    @abstractmethod
    def get(self, iid: IID) -> VMInfo: ...
    @abstractmethod
    def list(self) -> list[VMInfo]: ...
    @abstractmethod
    def status(self, iid: IID) -> VMStatus:
        """The VM's status; ``NOT_EXIST`` (not an error) for a VM the CSP no longer has."""

    @abstractmethod
    def suspend(self, iid: IID) -> VMStatus: ...
    @abstractmethod
    def resume(self, iid: IID) -> VMStatus: ...
    @abstractmethod
    def reboot(self, iid: IID) -> VMStatus: ...
    @abstractmethod
    def terminate(self, iid: IID) -> VMStatus: ...

    def statuses(self) -> dict[str, VMStatus]:
        """system_id -> status for every VM."""
        return {v.iid.system_id: v.status for v in self.list()}

    def list_iids(self) -> list[IID]:
        return [v.iid for v in self.list()]


class NLBHandler(ABC):
    @abstractmethod
    def create(self, req: NLBReq) -> NLBInfo: ...
    @abstractmethod
    def get(self, iid: IID) -> NLBInfo: ...
    @abstractmethod
    def list(self) -> list[NLBInfo]: ...
    @abstractmethod
    def delete(self, iid: IID) -> None: ...
    @abstractmethod
    def add_vms(self, iid: IID, vms: list[str]) -> VMGroup: ...
    @abstractmethod
    def remove_vms(self, iid: IID, vms: list[str]) -> VMGroup: ...
    @abstractmethod
    def health(self, iid: IID) -> HealthInfo: ...
    @abstractmethod
    def change_listener(self, iid: IID, listener: Listener) -> Listener: ...
    @abstractmethod
    def change_vm_group(self, iid: IID, vm_group: VMGroup) -> VMGroup:
        """Change the group's protocol/port (its VM list is left as it is)."""

    @abstractmethod
    def change_health_checker(self, iid: IID, health_checker: HealthChecker) -> HealthChecker: ...

    def list_iids(self) -> list[IID]:
        return [v.iid for v in self.list()]


class RegionZoneHandler(ABC):
    @abstractmethod
    def list(self) -> list[RegionZoneInfo]: ...

    def get(self, name: str) -> RegionZoneInfo:
        from mcinfra.core.errors import NotFound

        for r in self.list():
            if r.name == name:
                return r
        raise NotFound(f"region {name!r} not found")


class ImageHandler(ABC):
    @abstractmethod
    def list(self) -> list[ImageInfo]: ...
    @abstractmethod
    def get(self, name: str) -> ImageInfo: ...


class SpecHandler(ABC):
    @abstractmethod
    def list(self) -> list[SpecInfo]: ...
    @abstractmethod
    def get(self, name: str) -> SpecInfo: ...


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

    def close(self) -> None:
        """Release SDK clients; called when the core's Connection closes."""


class CloudDriver(ABC):
    """A provider's plugin. Import the CSP SDK inside ``connect``, never at module import."""

    provider: str = ""
    #: the pip extra that installs this driver's SDK
    extra: str = ""
    #: True: this class replaces another plugin's driver of the same provider (else that is an error)
    overrides: bool = False

    def capabilities(self) -> Capabilities:
        return Capabilities()

    def check_installed(self) -> str | None:
        """``None`` when usable here, else what is missing (shown by ``infra.providers()``)."""
        return None

    @abstractmethod
    def connect(self, info: SessionInfo) -> DriverSession: ...
