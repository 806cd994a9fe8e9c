"""The typed requests of a batch: one model per operation, with the fields of the single call's
keyword arguments (``VMStartReq`` has ``vms.start``'s), checked by the same validation code
(:mod:`mcinfra.core.validation`) the single call runs, so a batch is refused before anything of
it runs exactly when one of its calls would be refused on its own.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import Field, ValidationError, ValidationInfo, field_validator

from mcinfra.core import validation as v
from mcinfra.core.batch_results import InvalidBatchRequest
from mcinfra.core.keys import is_openssh_public_key
from mcinfra.core.models import (
    HealthChecker,
    Listener,
    Model,
    SecurityRule,
    SubnetReq,
    VMGroup,
    check_subnets_fit,
    normalize_cidr,
)

#: the VM manager's default wait (mcinfra.core.managers.vm.DEFAULT_WAIT; not imported: no cycle)
DEFAULT_WAIT = 600.0


def _name(field: str) -> Any:
    return field_validator(field, mode="before")(lambda value: v.name(value, field))


def _text(field: str) -> Any:
    def check(value: Any) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError(f"{field} must be a non-empty name")
        return value
    return field_validator(field, mode="before")(check)


def _flag(field: str) -> Any:
    return field_validator(field, mode="before")(lambda value: v.flag(value, field))


def _timeout() -> Any:
    return field_validator("timeout", mode="before")(lambda value: v.seconds(value, "timeout", allow_zero=True))


class BatchRequest(Model):
    """One item of a batch: ``name`` plus the single call's keyword arguments."""

    name: str
    _n = _name("name")
    #: which fields are NOT passed on to the single call
    local_fields: ClassVar[frozenset[str]] = frozenset({"name"})

    def call_kwargs(self) -> dict[str, Any]:
        """The keyword arguments of the single call (nested models kept as models)."""
        return {k: getattr(self, k) for k in type(self).model_fields if k not in self.local_fields}


class VMStartReq(BatchRequest):
    """``vms.start(name, **fields)``."""

    image: str
    spec: str
    vpc: str
    subnet: str
    security_groups: list[str]
    keypair: str
    root_disk_type: str | None = None
    root_disk_size: int | None = None
    wait: bool = True
    timeout: float = DEFAULT_WAIT

    _vpc = _name("vpc")
    _subnet = _name("subnet")
    _keypair = _name("keypair")
    _image = _text("image")
    _spec = _text("spec")
    _w = _flag("wait")
    _t = _timeout()

    @field_validator("security_groups", mode="before")
    @classmethod
    def _sgs(cls, value: Any) -> list[str]:
        return v.names(value, "security_groups")

    @field_validator("root_disk_type", mode="before")
    @classmethod
    def _disk_type(cls, value: Any) -> str | None:
        return v.optional_text(value, "root_disk_type")

    @field_validator("root_disk_size", mode="before")
    @classmethod
    def _disk_size(cls, value: Any) -> int | None:
        return None if value is None else v.count(value, "root_disk_size", maximum=65_536)


class VPCCreateReq(BatchRequest):
    """``vpcs.create(name, cidr=..., subnets=[...])``."""

    cidr: str
    subnets: list[SubnetReq] = Field(default_factory=list)

    @field_validator("cidr", mode="before")
    @classmethod
    def _cidr(cls, value: Any) -> str:
        return normalize_cidr(value, version=4)

    @field_validator("subnets", mode="after")
    @classmethod
    def _fit(cls, value: list[SubnetReq], info: ValidationInfo) -> list[SubnetReq]:
        if "cidr" in info.data:  # a bad cidr is reported on its own
            check_subnets_fit(info.data["cidr"], value)
        return value


class SecurityGroupCreateReq(BatchRequest):
    """``security_groups.create(name, vpc=..., rules=[...])``."""

    vpc: str
    rules: list[SecurityRule] = Field(default_factory=list)
    _v = _name("vpc")


class KeyPairCreateReq(BatchRequest):
    """``keypairs.create(name, public_key=None)``."""

    public_key: str | None = None

    @field_validator("public_key", mode="before")
    @classmethod
    def _key(cls, value: Any) -> str | None:
        if value is not None and not is_openssh_public_key(value):
            raise ValueError("public_key must be an OpenSSH public key ('ssh-ed25519 AAAA...')")
        return value  # type: ignore[no-any-return]


class NLBCreateReq(BatchRequest):
    """``nlbs.create(name, vpc=..., listener=..., vm_group=..., health_checker=..., type=..., scope=...)``."""

    vpc: str
    listener: Listener
    vm_group: VMGroup | None = None
    health_checker: HealthChecker | None = None
    type: Literal["PUBLIC", "INTERNAL"] = "PUBLIC"
    scope: Literal["REGION", "GLOBAL"] = "REGION"
    _v = _name("vpc")

    @field_validator("type", "scope", mode="before")
    @classmethod
    def _upper(cls, value: Any) -> Any:
        return value.upper() if isinstance(value, str) else value

    @field_validator("vm_group", mode="after")
    @classmethod
    def _members(cls, value: VMGroup | None) -> VMGroup | None:
        if value is not None:
            v.names(value.vms, "vm_group.vms")
        return value


class DeleteReq(BatchRequest):
    """``<kind>.delete(name, force=...)``."""

    force: bool = False
    _f = _flag("force")


class TerminateReq(BatchRequest):
    """``vms.terminate(name, force=..., wait=..., timeout=...)``."""

    force: bool = False
    wait: bool = True
    timeout: float = DEFAULT_WAIT
    _f = _flag("force")
    _w = _flag("wait")
    _t = _timeout()


class VMControlReq(BatchRequest):
    """``vms.suspend/resume/reboot(name, wait=..., timeout=...)``."""

    wait: bool = False
    timeout: float = DEFAULT_WAIT
    _w = _flag("wait")
    _t = _timeout()


def name_only(model: type[BatchRequest]) -> bool:
    """Whether a bare name is a whole request of this model (every other field has a default)."""
    return all(not f.is_required() for k, f in model.model_fields.items() if k != "name")


def build_request(model: type[BatchRequest], index: int, value: Any, *, what: str = "requests",
                  defaults: dict[str, Any] | None = None) -> BatchRequest:
    """Item ``index`` as a ``model``: an instance of it, or a mapping of its fields (a bare name
    too, for requests that are only a name), with ``defaults`` for fields it leaves out.
    A bad item: :class:`InvalidBatchRequest` naming ``<what>[index].<field>``."""
    where = f"{what}[{index}]"
    if isinstance(value, model):
        data: Any = value if not defaults else {**defaults, **value.model_dump(exclude_unset=True)}
    elif isinstance(value, str) and name_only(model):
        data = {**(defaults or {}), "name": value}
    elif isinstance(value, dict):
        data = {**(defaults or {}), **value}
    else:
        raise InvalidBatchRequest(f"{where} must be a {model.__name__} or a mapping of its fields, not "
                                  f"{type(value).__name__}", index=index, field=where)
    if isinstance(data, model):
        return data
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = ".".join(str(p) for p in err["loc"])
        msgs = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'item'}: {e['msg'].removeprefix('Value error, ')}"
                         for e in exc.errors())
        label = f" ({data.get('name')!r})" if isinstance(data.get("name"), str) else ""
        raise InvalidBatchRequest(f"{where}{label} is invalid: {msgs}", index=index,
                                  field=f"{where}.{loc}" if loc else where) from None
