"""Long-running operations as ARM runs them: pending for N polls, then Succeeded, Failed or Canceled,
for a create, a delete and a VM action; and rollback of half-made creates at every step."""

from __future__ import annotations

import pytest

from mcinfra.core.errors import CloudError
from mcinfra.core.models import VPCReq
from mcinfra.drivers.azure.driver import AzureSession
from tests.drivers.azure.conftest import Net, iid, names
from tests.fakes.azure import AzureFake

NIC, PIP, VM = "Microsoft.Network/networkInterfaces", "Microsoft.Network/publicIPAddresses", \
    "Microsoft.Compute/virtualMachines"
LB = "Microsoft.Network/loadBalancers"


def test_create_waits_for_pending_operation(cloud: AzureSession, fake: AzureFake) -> None:
    fake.state.op_polls = 3
    vpc = cloud.vpcs().create(VPCReq(name="vnet-slow", cidr="10.9.0.0/16"))
    assert vpc.extra["provisioning_state"] == "Succeeded"
    polls = fake.find("GET", r"/providers/Microsoft.Network/locations/.*/operations/")
    assert len(polls) == 4  # three InProgress, then Succeeded
    put = fake.find("PUT", r"/virtualNetworks/vnet-slow$")
    assert len(put) == 1


@pytest.mark.parametrize("status,code", [("Failed", "InternalServerError"), ("Canceled", "OperationCanceled")])
def test_create_failed_after_acceptance(cloud: AzureSession, fake: AzureFake, status: str, code: str) -> None:
    fake.end_next("PUT", "virtualNetworks", status, code, "the platform gave up")
    with pytest.raises(CloudError) as err:
        cloud.vpcs().create(VPCReq(name="vnet-x", cidr="10.9.0.0/16"))
    assert err.value.code == code and "the platform gave up" in err.value.message


@pytest.mark.parametrize("status,code", [(None, None), ("Failed", "InternalServerError"),
                                         ("Canceled", "OperationCanceled")])
def test_delete_terminal_states(cloud: AzureSession, fake: AzureFake, status: str | None, code: str | None) -> None:
    vpc = cloud.vpcs().create(VPCReq(name="vnet-d", cidr="10.9.0.0/16"))
    fake.state.op_polls = 1
    if status is None:
        cloud.vpcs().delete(vpc.iid)
        assert names(fake, "Microsoft.Network/virtualNetworks") == []
        return
    fake.end_next("DELETE", "virtualNetworks", status, code)
    with pytest.raises(CloudError) as err:
        cloud.vpcs().delete(vpc.iid)
    assert err.value.code == code
    assert names(fake, "Microsoft.Network/virtualNetworks") == ["vnet-d"]  # still there, as in Azure


@pytest.mark.parametrize("status,code", [(None, None), ("Failed", "AllocationFailed"),
                                         ("Canceled", "OperationCanceled")])
def test_vm_action_terminal_states(cloud: AzureSession, fake: AzureFake, net: Net, status: str | None,
                                   code: str | None) -> None:
    from mcinfra.core.models import VMStatus

    vm = cloud.vms().start(net.vm_req())
    fake.state.op_polls = 2
    if status is None:
        assert cloud.vms().suspend(vm.iid) == VMStatus.SUSPENDED
        assert cloud.vms().resume(vm.iid) == VMStatus.RUNNING
        assert cloud.vms().reboot(vm.iid) == VMStatus.RUNNING
        return
    fake.end_next("POST", "deallocate", status, code)
    with pytest.raises(CloudError) as err:
        cloud.vms().suspend(vm.iid)
    assert err.value.code == code
    assert cloud.vms().status(vm.iid) == VMStatus.RUNNING


# ------------------------------------------------------------------ rollback at every step
#: (what fails, how) for VM start: the request refused, or accepted and then Failed
VM_STEPS = [
    ("PUT", r"/publicIPAddresses/", "refused", []),
    ("PUT", r"/networkInterfaces/", "refused", []),
    ("PUT", "networkInterfaces", "failed", []),
    ("PUT", r"/virtualMachines/", "refused", []),
    ("PUT", "virtualMachines", "failed", []),
    ("PUT", "virtualMachines", "canceled", []),
]


@pytest.mark.parametrize("method,where,how,left", VM_STEPS)
def test_vm_start_rolls_back(cloud: AzureSession, fake: AzureFake, net: Net, method: str, where: str, how: str,
                             left: list[str]) -> None:
    if how == "refused":
        fake.inject(method, where, status=400, reason="InvalidParameter", message="no")
    else:
        fake.end_next(method, where, how.capitalize(), "InternalServerError" if how == "failed"
                      else "OperationCanceled", "gave up")
    with pytest.raises(CloudError):
        cloud.vms().start(net.vm_req())
    assert (names(fake, NIC), names(fake, PIP), names(fake, VM)) == ([], [], [])


def test_vm_rollback_failure_is_noted_not_hidden(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    fake.end_next("PUT", "virtualMachines", "Failed", "AllocationFailed", "no capacity")
    fake.inject("DELETE", r"/networkInterfaces/", status=500, reason="InternalServerError", times=10)
    with pytest.raises(CloudError) as err:
        cloud.vms().start(net.vm_req())
    assert err.value.code == "AllocationFailed"  # the first error, not the clean-up's
    assert any("NIC" in note for note in getattr(err.value, "__notes__", []))
    fake.clear_faults()


NLB_STEPS = [
    ("PUT", r"/publicIPAddresses/nlb-1", "refused"),
    ("PUT", r"/loadBalancers/", "refused"),
    ("PUT", "loadBalancers", "failed"),
    ("PUT", r"/networkInterfaces/vm-2-nic", "refused"),
]


@pytest.mark.parametrize("method,where,how", NLB_STEPS)
def test_nlb_create_rolls_back(cloud: AzureSession, fake: AzureFake, net: Net, method: str, where: str,
                               how: str) -> None:
    from mcinfra.core.models import HealthChecker, Listener, NLBReq, VMGroup

    vms = [cloud.vms().start(net.vm_req(n)).iid.system_id for n in ("vm-1", "vm-2")]
    pips_before = names(fake, PIP)
    if how == "refused":
        fake.inject(method, where, status=400, reason="InvalidParameter", message="no")
    else:
        fake.end_next(method, where, "Failed", "InternalServerError", "gave up")
    req = NLBReq(name="nlb-1", vpc=net.vpc.iid.system_id, listener=Listener(port=80),
                 vm_group=VMGroup(port=80, vms=vms), health_checker=HealthChecker(port=80, interval=10, timeout=10,
                                                                                   threshold=3))
    with pytest.raises(CloudError):
        cloud.nlbs().create(req)
    assert names(fake, LB) == [] and names(fake, PIP) == pips_before
    for vm in vms:  # no NIC is left in a pool of a load balancer that is gone
        nic = fake.state.get(cloud.vms().find(vm).network_profile.network_interfaces[0].id)
        assert not nic["properties"]["ipConfigurations"][0]["properties"].get("loadBalancerBackendAddressPools")


def test_terminate_removes_nic_and_public_ip(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    vm = cloud.vms().start(net.vm_req())
    assert (names(fake, NIC), names(fake, PIP)) == (["vm-1-nic"], ["vm-1-pip"])
    cloud.vms().terminate(vm.iid)
    assert (names(fake, VM), names(fake, NIC), names(fake, PIP)) == ([], [], [])
    assert cloud.vms().status(iid(vm.iid.system_id)).value == "NotExist"


def test_nlb_health_reads_azure_probe_states(cloud: AzureSession, fake: AzureFake, net: Net) -> None:
    from mcinfra.core.models import HealthChecker, Listener, NLBReq, VMGroup

    vms = [cloud.vms().start(net.vm_req(n)).iid for n in ("vm-1", "vm-2")]
    nlb = cloud.nlbs().create(NLBReq(name="nlb-1", vpc=net.vpc.iid.system_id, type="INTERNAL",
                                     listener=Listener(protocol="UDP", port=53),
                                     vm_group=VMGroup(protocol="UDP", port=53, vms=[v.system_id for v in vms]),
                                     health_checker=HealthChecker(protocol="HTTP", port=80, interval=5, timeout=5,
                                                                  threshold=2)))
    assert nlb.type == "INTERNAL" and nlb.listener.ip and nlb.listener.protocol == "UDP"
    assert (nlb.health_checker.protocol, nlb.health_checker.port) == ("HTTP", 80)
    fake.state.op_polls = 1
    health = cloud.nlbs().health(nlb.iid)
    assert sorted(health.healthy) == sorted(v.system_id for v in vms) and health.unhealthy == []
    cloud.vms().suspend(vms[0])
    health = cloud.nlbs().health(nlb.iid)
    assert health.unhealthy == [vms[0].system_id] and health.healthy == [vms[1].system_id]
    posts = fake.find("POST", r"/loadBalancingRules/listener/health$")
    assert len(posts) == 2  # a long-running POST each time, its result read through Location
