"""Batches on the mock: per-item results, failures, validation first, cancellation, rollback,
batches across connections, progress, the concurrency bound."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Any

import pytest

import mcinfra
from mcinfra import (
    BatchError,
    BatchInterrupted,
    CancelToken,
    CloudError,
    InvalidBatchRequest,
    InvalidRequest,
    ItemStatus,
    NotFound,
    SubnetReq,
    VMInfo,
    VMStartReq,
    VMStatus,
)
from mcinfra.testing import TestCloud


def network(cloud: TestCloud, vpc: str = "vpc-1") -> None:
    cloud.vpcs.create(vpc, cidr="10.0.0.0/16", subnets=[SubnetReq(name="sn-1", cidr="10.0.1.0/24")])
    cloud.security_groups.create("sg-1", vpc=vpc)
    cloud.keypairs.create("key-1")


def vm_reqs(n: int, prefix: str = "vm", **over: Any) -> list[dict[str, Any]]:
    base = dict(image="ubuntu-22.04", spec="t2.micro", vpc="vpc-1", subnet="sn-1", security_groups=["sg-1"],
                keypair="key-1", wait=False)
    return [{**base, "name": f"{prefix}-{i}", **over} for i in range(n)]


def stored(cloud: TestCloud, kind: str = "vm") -> set[str]:
    return {n for k, n in cloud.mapped() if k == kind}


def no_unsettled_rows(cloud: TestCloud) -> None:
    assert cloud.infra.store.unsettled(cloud.name) == []


@pytest.fixture
def cloud(mock_cloud: TestCloud) -> TestCloud:
    network(mock_cloud)
    return mock_cloud


def test_each_item_gets_its_result_in_request_order(cloud: TestCloud) -> None:
    reqs: list[Any] = vm_reqs(12)
    reqs[3] = VMStartReq(**reqs[3])  # typed requests and mappings mix
    result = cloud.vms.start_many(reqs, concurrency=4)
    assert result.all_ok and len(result) == 12 and result.raise_for_errors() is result
    assert [i.name for i in result] == [f"vm-{i}" for i in range(12)]
    assert [i.index for i in result] == list(range(12))
    assert all(isinstance(r, VMInfo) and r.iid.name_id == f"vm-{n}" for n, r in enumerate(result.results))
    assert stored(cloud) == {f"vm-{i}" for i in range(12)}
    assert result.counts()["ok"] == 12 and result.errors == {}
    cloud.assert_store_matches_cloud()


def test_failures_are_per_item_and_nothing_is_raised_half_way(cloud: TestCloud) -> None:
    with cloud.fail_next("vm.start", times=3, error="QuotaExceeded"):
        result = cloud.vms.start_many(vm_reqs(10), concurrency=3)
    assert len(result.failed) == 3 and len(result.ok) == 7
    assert all(isinstance(e, CloudError) and e.code == "QuotaExceeded" for e in result.errors.values())
    assert {i.error_type for i in result.failed} == {"CloudError"}
    assert stored(cloud) == {i.name for i in result.ok}
    with pytest.raises(BatchError) as err:
        result.raise_for_errors()
    assert err.value.result is result and "3 of 10" in str(err.value)
    cloud.assert_store_matches_cloud()


@pytest.mark.mcinfra(fail_rate=0.3, seed=7)
def test_random_faults_every_item_accounted_for(mock_cloud: TestCloud) -> None:
    mock_cloud.vpcs.create_many([{"name": f"vpc-{i}", "cidr": "10.0.0.0/16"} for i in range(30)], concurrency=5)
    mock_cloud.keypairs.create_many([f"k-{i}" for i in range(20)])  # a bare name is a whole request
    vpcs, keys = stored(mock_cloud, "vpc"), stored(mock_cloud, "keypair")
    assert 0 < len(vpcs) < 30 and 0 < len(keys) < 20  # the seed gives some of each
    result = mock_cloud.vpcs.delete_many(sorted(vpcs), concurrency=5)
    assert len(result.ok) + len(result.failed) == len(vpcs)
    assert stored(mock_cloud, "vpc") == {i.name for i in result.failed}
    mock_cloud.assert_store_matches_cloud()


def test_a_bad_item_refuses_the_batch_before_anything(cloud: TestCloud) -> None:
    before = len(cloud.calls)
    reqs = vm_reqs(6)
    reqs[4]["image"] = ""
    with pytest.raises(InvalidBatchRequest) as err:
        cloud.vms.start_many(reqs)
    assert err.value.index == 4 and err.value.field == "requests[4].image"
    assert isinstance(err.value, InvalidRequest)
    reqs = vm_reqs(3)
    reqs[1]["security_groups"] = "sg-1"
    with pytest.raises(InvalidBatchRequest, match="requests\\[1\\]") as err:
        cloud.vms.start_many(reqs)
    assert err.value.field == "requests[1].security_groups"
    with pytest.raises(InvalidBatchRequest) as err:
        cloud.vms.start_many(vm_reqs(3) + vm_reqs(1))  # vm-0 twice
    assert err.value.index == 3 and err.value.field == "requests[3].name"
    with pytest.raises(InvalidBatchRequest) as err:
        cloud.vms.start_many([*vm_reqs(2), {"name": "vm-9", "image": "x"}])
    assert err.value.index == 2
    with pytest.raises(InvalidBatchRequest) as err:
        cloud.vpcs.create_many([{"name": "a", "cidr": "10.0.0.0/16"}, {"name": "b", "cidr": "10.0.0.0/33"}])
    assert err.value.field == "requests[1].cidr"
    with pytest.raises(InvalidBatchRequest) as err:
        cloud.vms.terminate_many(["vm-1", "Not A Name"])
    assert err.value.field == "names[1].name"
    for bad in ({"concurrency": 0}, {"progress": 3}, {"cancel": object()}, {"rollback_on_failure": "yes"}):
        with pytest.raises(InvalidRequest):
            cloud.vms.start_many(vm_reqs(2), **bad)
    with pytest.raises(InvalidRequest, match="list"):
        cloud.vms.start_many(vm_reqs(1)[0])
    assert len(cloud.calls) == before and stored(cloud) == set()


def test_cancel_token_stops_new_items_and_leaves_no_pending_row(cloud: TestCloud) -> None:
    token = CancelToken()
    seen: list[str] = []

    def progress(kind: str, name: str, error: str | None) -> None:
        seen.append(name)
        if len(seen) == 3:
            token.cancel()

    result = cloud.vms.start_many(vm_reqs(30), concurrency=2, cancel=token, progress=progress)
    ok, cancelled = result.ok, result.cancelled_items
    assert result.cancelled and len(ok) + len(cancelled) == 30
    assert 3 <= len(ok) <= 3 + 2  # at most the running ones finished after the cancel
    assert all("cancelled" in (i.error_message or "") for i in cancelled)
    assert stored(cloud) == {i.name for i in ok}
    no_unsettled_rows(cloud)
    assert len(seen) == 30  # the callback hears of every item, cancelled ones too
    cloud.assert_store_matches_cloud()


def test_cancel_from_another_thread_with_an_event(cloud: TestCloud) -> None:
    event = threading.Event()
    # both workers are inside a start when the batch is cancelled: exactly those two finish
    both_running = threading.Barrier(3, timeout=10)
    original = cloud.connection.handlers.vm.start

    def slow_start(req: Any) -> Any:
        if not event.is_set():
            both_running.wait()
            assert event.wait(10)  # held until the batch is cancelled
        return original(req)

    def cancel_when_both_run() -> None:
        both_running.wait()
        event.set()

    cloud.connection.handlers.vm.start = slow_start  # type: ignore[method-assign]
    threading.Thread(target=cancel_when_both_run, daemon=True).start()
    result = cloud.vms.start_many(vm_reqs(20), concurrency=2, cancel=event)
    assert len(result.ok) == 2 and len(result.cancelled_items) == 18
    assert stored(cloud) == {i.name for i in result.ok}
    no_unsettled_rows(cloud)


def test_ctrl_c_lets_running_items_finish_and_reports_the_rest(cloud: TestCloud) -> None:
    calls = []

    def progress(kind: str, name: str, error: str | None) -> None:
        calls.append(name)
        if len(calls) == 2:
            raise KeyboardInterrupt

    with pytest.raises(BatchInterrupted) as stop:
        cloud.vms.start_many(vm_reqs(15), concurrency=3, progress=progress)
    result = stop.value.result
    assert isinstance(stop.value, KeyboardInterrupt) and result.cancelled
    assert len(result) == 15 and len(result.ok) + len(result.cancelled_items) == 15
    assert 2 <= len(result.ok) <= 2 + 3
    assert stored(cloud) == {i.name for i in result.ok}
    no_unsettled_rows(cloud)


def test_rollback_deletes_what_the_batch_made(cloud: TestCloud) -> None:
    stack = ExitStack()
    done: list[str] = []

    def progress(kind: str, name: str, error: str | None) -> None:
        done.append(name)
        if len(done) == 3:  # the 4th start fails
            stack.enter_context(cloud.fail_next("vm.start", error="InsufficientCapacity"))

    with stack:
        result = cloud.vms.start_many(vm_reqs(8), concurrency=1, rollback_on_failure=True, progress=progress)
    statuses = [i.status for i in result]
    assert statuses[:3] == [ItemStatus.ROLLED_BACK] * 3 and statuses[3] == ItemStatus.FAILED
    assert statuses[4:] == [ItemStatus.CANCELLED] * 4 and result.rolled_back
    assert result.results == [None] * 8
    assert stored(cloud) == set()
    cloud.assert_store_matches_cloud()


def test_rollback_across_kinds_goes_in_reverse_dependency_order(mock_cloud: TestCloud) -> None:
    infra, c = mock_cloud.infra, mock_cloud.name
    items = [
        (c, "vpcs.create", {"name": "vpc-1", "cidr": "10.0.0.0/16",
                            "subnets": [{"name": "sn-1", "cidr": "10.0.1.0/24"}]}),
        (c, "security_groups.create", {"name": "sg-1", "vpc": "vpc-1"}),
        (c, "keypairs.create", {"name": "key-1"}),
        *[(c, "vms.start", r) for r in vm_reqs(3)],
        (c, "vm.start", vm_reqs(1, prefix="bad", image="no-such-image")[0]),
    ]
    result = infra.batch(items, rollback_on_failure=True, concurrency=4)
    assert result.items[-1].status == ItemStatus.FAILED and isinstance(result.items[-1].error, NotFound)
    assert [i.status for i in result.items[:-1]] == [ItemStatus.ROLLED_BACK] * 6
    # what was rolled back has no result left: the key pair's private key is not kept in the batch
    assert [i.result for i in result.items[:-1]] == [None] * 6
    assert "PRIVATE KEY" not in result.model_dump_json()
    assert mock_cloud.mapped() == set()
    mock_cloud.assert_no_leftovers()
    deletes = [op for op in mock_cloud.call_names if op.endswith((".delete", ".terminate"))]
    order = {"vm.terminate": 0, "keypair.delete": 1, "security_group.delete": 1, "vpc.delete": 2}
    assert [order[op] for op in deletes] == sorted(order[op] for op in deletes)


def test_one_batch_across_connections(mcinfra_clouds: Any) -> None:
    a, b = mcinfra_clouds(), mcinfra_clouds()
    infra = a.infra
    items: list[Any] = []
    for cloud in (a, b):
        items += [(cloud.name, "vpcs.create", {"name": "vpc-1", "cidr": "10.0.0.0/16",
                                                "subnets": [SubnetReq(name="sn-1", cidr="10.0.1.0/24")]}),
                  (cloud.name, "sg.create", {"name": "sg-1", "vpc": "vpc-1"}),
                  (cloud.name, "keypairs.create", {"name": "key-1"})]
        items += [mcinfra.BatchOp(connection=cloud.name, op="vms.start", args=r) for r in vm_reqs(5)]
    progress: list[tuple[str, str, str | None]] = []
    result = infra.batch(items, concurrency={a.name: 2, b.name: 3}, progress=lambda *x: progress.append(x))
    assert result.all_ok and len(result) == 16 and len(progress) == 16
    assert [(i.connection, i.name) for i in result] == [(c, n) for c, _, n in
                                                        ((it[0], it[1], it[2]["name"]) if isinstance(it, tuple)
                                                         else (it.connection, it.op, it.args["name"])
                                                         for it in items)]
    assert result.workers <= 5
    for cloud in (a, b):
        assert stored(cloud) == {f"vm-{i}" for i in range(5)}
        cloud.assert_store_matches_cloud()
    teardown = infra.batch_plan()
    for cloud in (a, b):
        for i in range(5):
            teardown.add(cloud.name, "vms.terminate", name=f"vm-{i}", wait=False)
        teardown.add(cloud.name, "keypairs.delete", name="key-1").add(cloud.name, "sg.delete", name="sg-1")
        teardown.add(cloud.name, "vpcs.delete", name="vpc-1")
    assert len(teardown) == 16
    assert teardown.run(concurrency=4).all_ok  # ordered: VMs, then SG/key, then VPC
    for cloud in (a, b):
        cloud.assert_no_leftovers()


def test_cross_connection_batch_is_checked_first(mcinfra_clouds: Any) -> None:
    a = mcinfra_clouds()
    with pytest.raises(InvalidBatchRequest) as err:
        a.infra.batch([(a.name, "vpcs.create", {"name": "v", "cidr": "10.0.0.0/16"}), ("nowhere", "vms.start", {})])
    assert err.value.field == "items[1].connection"
    with pytest.raises(InvalidBatchRequest) as err:
        a.infra.batch([(a.name, "vms.explode", {"name": "v"})])
    assert err.value.field == "items[0].op"
    with pytest.raises(InvalidBatchRequest) as err:
        a.infra.batch([(a.name, "vpcs.create", {"name": "v", "cidr": "10.0.0.0/16"}),
                       (a.name, "vpcs.create", {"name": "w"})])
    assert err.value.field == "items[1].cidr"
    with pytest.raises(InvalidRequest):
        a.infra.batch([(a.name, "vpcs.create", {"name": "v", "cidr": "10.0.0.0/16"})], concurrency={"other": 2})
    assert stored(a, "vpc") == set() and a.call_names == []


def test_progress_callback_counts_and_concurrency_bound(cloud: TestCloud) -> None:
    lock, running, peak = threading.Lock(), [0], [0]
    original = cloud.connection.handlers.vm.start
    threads: set[int] = set()

    def counting_start(req: Any) -> Any:
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
            threads.add(threading.get_ident())
        try:
            return original(req)
        finally:
            with lock:
                running[0] -= 1

    cloud.connection.handlers.vm.start = counting_start  # type: ignore[method-assign]
    events: list[tuple[str, str, str | None]] = []
    with cloud.fail_next("vm.start", times=2, error="Boom"):
        result = cloud.vms.start_many(vm_reqs(40), concurrency=4, progress=lambda *e: events.append(e))
    assert len(events) == 40 and sum(e[2] is not None for e in events) == 2
    assert {e[0] for e in events} == {"vm"} and {e[1] for e in events} == {f"vm-{i}" for i in range(40)}
    assert peak[0] <= 4 and len(threads) <= 4 and result.workers == 4


def test_vm_control_and_delete_many(cloud: TestCloud) -> None:
    names = [f"vm-{i}" for i in range(6)]
    cloud.vms.start_many(vm_reqs(6), concurrency=3).raise_for_errors()
    suspended = cloud.vms.suspend_many(names, wait=True)
    assert suspended.all_ok and set(suspended.results) == {VMStatus.SUSPENDED}
    again = cloud.vms.suspend_many(names[:2])
    assert [i.error_type for i in again] == ["InvalidRequest"] * 2  # suspend needs Running
    assert cloud.vms.resume_many(names, wait=True).all_ok
    assert cloud.vms.reboot_many(names[:3]).all_ok
    assert len(cloud.vms.start_many([])) == 0
    gone = cloud.vms.delete_many([*names, "vm-missing"], progress=True)  # a rich bar on stderr
    assert [i.status for i in gone][:6] == [ItemStatus.OK] * 6 and isinstance(gone[6].error, NotFound)
    assert stored(cloud) == set()
    assert cloud.security_groups.delete_many(["sg-1"]).all_ok and cloud.keypairs.delete_many(["key-1"]).all_ok
    assert cloud.vpcs.delete_many(["vpc-1"]).all_ok
    cloud.assert_no_leftovers()


def test_results_show_as_tables(cloud: TestCloud) -> None:
    from rich.console import Console

    with cloud.fail_next("vm.start", error="Boom"):
        result = cloud.vms.start_many(vm_reqs(3, prefix="<b>"[1:2]), concurrency=1)
    html = result._repr_html_()
    assert "1 failed" in html and "CloudError" in html and "<table" in html
    console = Console(record=True, width=200)
    console.print(result)
    text = console.export_text()
    assert "b-0" in text and "failed" in text and "2 ok" in text
    dumped = result.model_dump(mode="json")
    assert dumped["items"][0]["error_type"] == "CloudError" and "error" not in dumped["items"][0]


def test_a_failed_rollback_is_reported_and_the_resource_stays_mapped(cloud: TestCloud) -> None:
    reqs = [*vm_reqs(3), *vm_reqs(1, prefix="bad", image="no-such-image")]
    with cloud.fail_next("vm.terminate", error="Stuck"):
        result = cloud.vms.start_many(reqs, concurrency=1, rollback_on_failure=True)
    statuses = [i.status for i in result]
    assert statuses.count(ItemStatus.ROLLBACK_FAILED) == 1 and statuses.count(ItemStatus.ROLLED_BACK) == 2
    stuck = next(i for i in result if i.status == ItemStatus.ROLLBACK_FAILED)
    assert "Stuck" in (stuck.rollback_error or "")
    assert stored(cloud) == {stuck.name}
    cloud.assert_store_matches_cloud()
