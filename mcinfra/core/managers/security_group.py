from __future__ import annotations

from typing import Any

from mcinfra.core import validation as v
from mcinfra.core.errors import AlreadyExists, InvalidRequest, NotFound
from mcinfra.core.handlers import SecurityGroupHandler
from mcinfra.core.managers.base import ResourceManager
from mcinfra.core.models import (
    DEFAULT_OUTBOUND_RULE,
    Kind,
    SecurityGroupInfo,
    SecurityGroupReq,
    SecurityRule,
    dedupe_rules,
)


def _rules(rules: Any, field: str = "rules") -> list[SecurityRule]:
    if rules is None:
        return []
    if not isinstance(rules, list | tuple):
        raise InvalidRequest(f"{field} must be a list of SecurityRule", field=field)
    return [v.build(SecurityRule, f"{field}[{i}]", r) for i, r in enumerate(rules)]


class SecurityGroupManager(ResourceManager[SecurityGroupInfo, SecurityGroupHandler]):
    """Security groups with one meaning everywhere: a new group allows all outbound traffic
    (the rule ``outbound ALL 0.0.0.0/0``, which can be removed) and no inbound traffic; the
    rules given are added to that."""

    kind = Kind.SECURITY_GROUP

    @property
    def handler(self) -> SecurityGroupHandler:
        return self._ctx.handlers.security_group

    def create(self, name: str, *, vpc: str, rules: list[SecurityRule] | None = None) -> SecurityGroupInfo:
        name, vpc = v.name(name), v.name(vpc, "vpc")
        wanted = dedupe_rules([DEFAULT_OUTBOUND_RULE, *_rules(rules)])
        with self._locks(writes=[self._key(name)], reads=[self._key(vpc, Kind.VPC)]):
            vpc_rec = self._row(vpc, Kind.VPC)

            def create_at_csp(cname: str) -> SecurityGroupInfo:
                req = SecurityGroupReq(name=cname, vpc=vpc_rec.system_id, rules=wanted)
                return self._gated("create", name, self.handler.create, req)

            # "ids": system_id -> name of what it references, so reads need no name lookups
            info = self._create_tracked(name, create_at_csp, refs=[(Kind.VPC, vpc)],
                                        extra={"vpc": vpc, "ids": {vpc_rec.system_id: vpc}})
            return self._user_view(info, name, {vpc_rec.system_id: vpc})

    def _user_view(self, info: SecurityGroupInfo, name: str, known: dict[str, str] | None = None
                   ) -> SecurityGroupInfo:
        return self._renamed(info, name, vpc=self._name_of(Kind.VPC, [info.vpc], known)(info.vpc))

    def add_rules(self, name: str, rules: list[SecurityRule]) -> SecurityGroupInfo:
        """Add rules; fails (AlreadyExists) without change if any is there already."""
        return self._change_rules(name, rules, add=True)

    def remove_rules(self, name: str, rules: list[SecurityRule]) -> SecurityGroupInfo:
        """Remove rules; fails (NotFound) without change if any is not there."""
        return self._change_rules(name, rules, add=False)

    def _change_rules(self, name: str, rules: list[SecurityRule], *, add: bool) -> SecurityGroupInfo:
        name = v.name(name)
        reqs = dedupe_rules(_rules(rules))
        if not reqs:
            raise InvalidRequest("rules must name at least one rule", field="rules")
        with self._locks(writes=[self._key(name)]):
            rec = self._row(name)
            current = set(self._gated("get", name, self.handler.get, self._iid(rec)).rules)
            if add:
                dup = [str(r) for r in reqs if r in current]
                if dup:
                    raise AlreadyExists(f"{self._label(name)} already has rule(s) {dup}")
                info = self._gated("add_rules", name, self.handler.add_rules, self._iid(rec), reqs)
            else:
                missing = [str(r) for r in reqs if r not in current]
                if missing:
                    raise NotFound(f"{self._label(name)} has no rule(s) {missing}")
                info = self._gated("remove_rules", name, self.handler.remove_rules, self._iid(rec), reqs)
            return self._user_view(info, name, rec.extra.get("ids"))

    def _adopted_links(self, info: SecurityGroupInfo) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        vpc = self._store.names_for(self._ctx.connection, Kind.VPC, [info.vpc]).get(info.vpc)
        return ({"vpc": vpc, "ids": {info.vpc: vpc}}, [(Kind.VPC, vpc)]) if vpc else ({}, [])
