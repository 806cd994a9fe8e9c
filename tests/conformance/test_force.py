"""delete(force=True): the name is forgotten even when the CSP refuses the delete."""

from __future__ import annotations

import pytest

import mcinfra
from mcinfra import SubnetReq
from tests.conformance.conftest import SSH_IN, only_csp


def test_delete_force(cloud: mcinfra.Connection) -> None:
    vpc = cloud.vpcs.create("vpc-01", cidr="10.40.0.0/16", subnets=[SubnetReq(name="sn", cidr="10.40.1.0/24")])
    sg = cloud.security_groups.create("sg-01", vpc="vpc-01", rules=[SSH_IN])
    cloud.security_groups.unregister("sg-01")  # the store no longer sees that the VPC is in use
    with pytest.raises(mcinfra.InUse):
        cloud.vpcs.delete("vpc-01")  # ... but the CSP does, and says so
    assert cloud.vpcs.get("vpc-01").iid == vpc.iid  # a refused delete forgets nothing
    cloud.vpcs.delete("vpc-01", force=True)
    with pytest.raises(mcinfra.NotFound):
        cloud.vpcs.get("vpc-01")
    assert vpc.iid.system_id in only_csp(cloud.vpcs)  # forgotten, not deleted: the CSP still has it
    cloud.security_groups.delete_csp(sg.iid.system_id)
    cloud.vpcs.delete_csp(vpc.iid.system_id)
    assert vpc.iid.system_id not in only_csp(cloud.vpcs)
    # force on a resource that exists and can go: deleted as without force
    cloud.security_groups.create("sg-02", vpc=cloud.vpcs.create("vpc-02", cidr="10.41.0.0/16").iid.name_id)
    cloud.security_groups.delete("sg-02", force=True)
    cloud.vpcs.delete("vpc-02", force=True)
    assert cloud.vpcs.list_all().mapped == [] and cloud.security_groups.list_all().mapped == []
