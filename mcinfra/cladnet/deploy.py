"""Deploy, update, take down and delete a CLADNet on its VMs over SSH.

``deploy`` and ``update`` share one convergence pass:

1. (sync) read every peer's VM through the core (``infra.connect(c).vms.get(vm)``), check
   the address space against the VMs' VPC CIDRs, allocate addresses for new peers;
2. (async, bounded) phase "keys": on each VM that has no key yet (or every targeted VM for
   ``deploy``), make the key pair there and read back only the public key;
3. plan the rules, render each peer's config; phase "up": push it to the peers whose
   config changed (all targeted peers for ``deploy``) with ``wg syncconf``;
4. (sync) record states, pinned host keys and endpoints; check the WireGuard port in the
   VMs' security groups (and open it, if asked).

A VM that cannot be reached or fails is marked ``failed`` with the reason; the others go
on. Running ``deploy`` again retries it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import threading
import time
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from mcinfra.cladnet import remote, state
from mcinfra.cladnet.allocator import AddressSpaceFull, address_at
from mcinfra.cladnet.planner import capacity, check_address_space
from mcinfra.cladnet.rules import PeerView, Rule, plan_rules
from mcinfra.cladnet.wgconfig import InterfaceSpec, digest, render
from mcinfra.core.display import rich_bar
from mcinfra.core.errors import InvalidRequest, McInfraError, NotFound
from mcinfra.core.models import SecurityRule, VMInfo, VMStatus, check_name
from mcinfra.store.cladnet_tables import CLADNetPeerRow

T = TypeVar("T")
#: progress(peer key, event): event is "keys", "up", "skip" or "failed".
Progress = Callable[[str, str], None]


@dataclass
class SGGap:
    """The WireGuard UDP port is not open to every peer in a VM's security groups."""

    connection: str
    vm: str
    security_groups: list[str]
    missing_sources: list[str]
    added: str | None = None  # the SG a rule was added to (open_ports=True)
    error: str = ""


@dataclass
class DeployReport:
    net: str
    peers: list[state.Peer] = field(default_factory=list)
    failed: dict[str, str] = field(default_factory=dict)
    pushed: list[str] = field(default_factory=list)
    sg_gaps: list[SGGap] = field(default_factory=list)
    bytes_sent: int = 0
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return not self.failed


_LOOP: asyncio.AbstractEventLoop | None = None
_LOOP_LOCK = threading.Lock()


def _loop() -> asyncio.AbstractEventLoop:
    """One event loop in a daemon thread for all CLADNet SSH work: SSH connections stay
    usable from one call to the next (``deploy`` then ``check`` reuse them, see
    ``remote.POOL_IDLE``), and callers inside a running loop (notebooks) are served too."""
    global _LOOP
    with _LOOP_LOCK:
        if _LOOP is None or _LOOP.is_closed():
            loop = asyncio.new_event_loop()
            threading.Thread(target=loop.run_forever, name="cladnet-ssh", daemon=True).start()
            _LOOP = loop
        return _LOOP


def run_sync(coro: Coroutine[Any, Any, T]) -> T:
    """Run ``coro`` on the CLADNet loop and wait for its result."""
    return asyncio.run_coroutine_threadsafe(coro, _loop()).result()


def parse_vm_refs(vms: Iterable[str | tuple[str, str]]) -> list[tuple[str, str]]:
    """``"conn/vm"`` strings or ``(conn, vm)`` pairs -> checked, de-duplicated pairs."""
    out: list[tuple[str, str]] = []
    for ref in vms:
        if isinstance(ref, str):
            conn, sep, vm = ref.partition("/")
            if not sep:
                raise InvalidRequest(f"VM reference {ref!r} is not '<connection>/<vm name>'", field="vms")
        else:
            conn, vm = ref
        try:
            check_name(conn, "connection name")
            check_name(vm, "VM name")
        except ValueError as exc:
            raise InvalidRequest(str(exc), field="vms") from exc
        if (conn, vm) not in out:
            out.append((conn, vm))
    return out


@dataclass
class _Peer:
    row_id: int
    key: str
    connection: str
    vm_name: str
    overlay_ip: str
    address: str
    interface: str
    public_key: str | None
    host_key: str | None
    digest: str
    state: str
    vm: VMInfo | None = None
    gone: str = ""  # why the VM is out of the mesh (terminated)
    fail: str = ""
    new_host_key: str | None = None
    config: str = ""
    endpoints: dict[str, str | None] = field(default_factory=dict)
    pushed: bool = False


class _Run:
    """One convergence pass over a net."""

    def __init__(self, infra: Any, name: str, ssh_keys: remote.SSHKeys, *, concurrency: int,
                 mode: str, progress: Progress | None, connect_timeout: float) -> None:
        if concurrency < 1:
            raise InvalidRequest(f"concurrency must be >= 1, got {concurrency}", field="concurrency")
        self.infra = infra
        self.name = name
        self.ssh_keys = ssh_keys
        self.concurrency = concurrency
        self.mode = remote.check_mode(mode)
        self.progress = progress or (lambda key, event: None)
        self.connect_timeout = connect_timeout
        self.sessions: dict[str, remote.Session] = {}
        self.bytes_sent = 0
        self._clouds: dict[str, Any] = {}

    def cloud(self, connection: str) -> Any:
        if connection not in self._clouds:
            self._clouds[connection] = self.infra.connect(connection)
        return self._clouds[connection]

    # ------------------------------------------------------------ sync: read + allocate
    def load(self, add: list[tuple[str, str]], shared_host: bool) -> list[_Peer]:
        with self.infra.store.session() as s:
            row = state.load(s, self.name)
            self.spec = state.net_model(row)
            known = {(p.connection, p.vm) for p in row.peers}
        new = [ref for ref in add if ref not in known]
        new_vms = {ref: self.cloud(ref[0]).vms.get(ref[1]) for ref in new}  # NotFound propagates
        space = ipaddress.IPv4Network(self.spec.address_space)
        if len(new) > capacity(space) - self.spec.next_index:
            raise AddressSpaceFull(
                f"address space {space} has {capacity(space) - self.spec.next_index} addresses left "
                f"(never reused); {len(new)} VMs were asked to join"
            )
        self._check_vpcs(space, new_vms)
        self._check_other_nets(space, new)
        with self.infra.store.session() as s:
            row = state.load(s, self.name)
            for conn, vm in new:
                index = row.next_index
                iface = state.interface_name(self.name, index=index if shared_host else None)
                row.peers.append(CLADNetPeerRow(
                    connection=conn, vm=vm, ip_index=index, overlay_ip=str(address_at(space, index)),
                    interface=remote.check_ifname(iface), state="configuring",
                ))
                row.next_index = index + 1
            s.flush()
            peers = [
                _Peer(p.id, f"{p.connection}/{p.vm}", p.connection, p.vm, p.overlay_ip,
                      f"{p.overlay_ip}/{space.prefixlen}", p.interface, p.public_key, p.host_key,
                      p.config_digest, p.state)
                for p in row.peers
            ]
        for p in peers:
            vm = new_vms.get((p.connection, p.vm_name))
            if vm is None:
                try:
                    vm = self.cloud(p.connection).vms.get(p.vm_name)
                except NotFound:
                    p.gone = f"VM {p.key} no longer exists"
                except McInfraError as exc:
                    p.fail = f"cannot read VM {p.key}: {exc}"
            p.vm = vm
        return peers

    def _check_other_nets(self, space: ipaddress.IPv4Network, new: list[tuple[str, str]]) -> None:
        """A VM in two nets needs two UDP ports and two address spaces that do not overlap."""
        if not new:
            return
        from sqlalchemy import select

        from mcinfra.store.cladnet_tables import CLADNetRow

        with self.infra.store.session() as s:
            rows = s.execute(
                select(CLADNetPeerRow.connection, CLADNetPeerRow.vm, CLADNetRow.name, CLADNetRow.port,
                       CLADNetRow.address_space)
                .join(CLADNetRow, CLADNetRow.id == CLADNetPeerRow.cladnet_id)
                .where(CLADNetRow.name != self.name)
            ).all()
        wanted = set(new)
        for conn, vm, other, port, other_space in rows:
            if (conn, vm) not in wanted:
                continue
            if port == self.spec.port:
                raise InvalidRequest(
                    f"VM {conn}/{vm} is already in cladnet {other!r} on UDP port {port}; "
                    f"give cladnet {self.name!r} another port", field="vms")
            if ipaddress.IPv4Network(other_space).overlaps(space):
                raise InvalidRequest(
                    f"VM {conn}/{vm} is already in cladnet {other!r} whose space {other_space} "
                    f"overlaps {space}", field="vms")

    def _check_vpcs(self, space: ipaddress.IPv4Network, vms: dict[tuple[str, str], VMInfo]) -> None:
        cidrs: set[str] = set()
        for (conn, _), vm in vms.items():
            if not vm.vpc:
                continue
            info = self.cloud(conn).vpcs.get(vm.vpc)
            cidrs.add(info.cidr)
            cidrs.update(sn.cidr for sn in info.subnets)
        check_address_space(str(space), sorted(cidrs))

    # ------------------------------------------------------------ async: SSH phases
    def _target(self, p: _Peer) -> remote.Target:
        vm = p.vm
        assert vm is not None
        host = vm.public_ip or vm.private_ip
        if not host:
            raise remote.RemoteError(f"{p.key}: the VM has no IP address to SSH to")
        return remote.Target(
            key=p.key, host=host, port=vm.ssh_port, user=vm.vm_user,
            private_key=remote.ssh_key_for(self.ssh_keys, p.connection, vm), pinned_host_key=p.host_key,
        )

    async def session(self, p: _Peer) -> remote.Session:
        if p.key not in self.sessions:
            sess = await remote.open_session(self._target(p), connect_timeout=self.connect_timeout)
            if not p.host_key:
                p.new_host_key = sess.host_key
            self.sessions[p.key] = sess
        return self.sessions[p.key]

    async def each(self, peers: list[_Peer], step: Callable[[_Peer], Coroutine[Any, Any, None]],
                   event: str) -> None:
        sem = asyncio.Semaphore(self.concurrency)

        async def one(p: _Peer) -> None:
            async with sem:
                try:
                    await step(p)
                except remote.RemoteError as exc:
                    p.fail = str(exc)
                except McInfraError as exc:
                    p.fail = f"{p.key}: {exc}"
            self.progress(p.key, "failed" if p.fail else event)

        await asyncio.gather(*(one(p) for p in peers))

    async def keys(self, p: _Peer) -> None:
        sess = await self.session(p)
        out = (await sess.run(remote.keys_script(p.interface))).strip().splitlines()
        if not out or len(out[-1]) != 44:
            raise remote.RemoteError(f"{p.key}: wg pubkey printed no key")
        p.public_key = out[-1]

    async def up(self, p: _Peer) -> None:
        sess = await self.session(p)
        out = await sess.run(remote.up_script(p.interface, p.config, p.address, self.spec.mtu, self.mode))
        if p.public_key and out.strip().splitlines()[-1:] != [p.public_key]:
            raise remote.RemoteError(f"{p.key}: the interface's public key is not the one recorded")
        p.pushed = True

    async def close(self) -> None:
        for sess in self.sessions.values():
            self.bytes_sent += sess.bytes_sent
            sess.close()
        self.sessions.clear()

    # ------------------------------------------------------------ the pass
    def plan(self, peers: list[_Peer]) -> dict[str, list[Rule]]:
        views = [
            PeerView(p.key, p.overlay_ip, p.connection, p.vm.vpc if p.vm else "",
                     p.vm.public_ip if p.vm else None, p.vm.private_ip if p.vm else None, p.public_key)
            for p in peers if not p.gone and p.public_key
        ]
        rules = plan_rules(views, self.spec.rule_type)
        for p in peers:
            if p.key in rules:
                spec = InterfaceSpec(p.interface, p.address, self.spec.port, self.spec.mtu,
                                     f"{remote.REMOTE_DIR}/{p.interface}.key")
                p.config = render(spec, rules[p.key])
                p.endpoints = {r.peer: r.endpoint for r in rules[p.key]}
        return rules

    @staticmethod
    def reachable(peers: list[_Peer]) -> list[_Peer]:
        """The peers worth an SSH attempt; a VM that is not running fails here, with the reason."""
        for p in peers:
            if not p.gone and not p.fail and p.vm is not None and p.vm.status != VMStatus.RUNNING:
                p.fail = f"{p.key}: the VM is {p.vm.status.value}"
        return [p for p in peers if not p.gone and not p.fail and p.vm is not None]

    async def converge(self, peers: list[_Peer], force: set[str]) -> None:
        live = self.reachable(peers)
        try:
            need_keys = [p for p in live if not p.public_key or p.key in force]
            await self.each(need_keys, self.keys, "keys")
            self.plan(peers)
            push = [p for p in live if not p.fail and p.config and (
                p.key in force or p.state != "up" or digest(p.config) != p.digest)]
            for p in live:
                if p not in push and not p.fail:
                    self.progress(p.key, "skip")
            await self.each(push, self.up, "up")
        finally:
            await self.close()

    def record(self, peers: list[_Peer], report: DeployReport) -> None:
        with self.infra.store.session() as s:
            rows = {r.id: r for r in state.load(s, self.name).peers}
            for p in peers:
                row = rows[p.row_id]
                if p.vm is not None:
                    row.public_ip, row.private_ip, row.vpc = p.vm.public_ip, p.vm.private_ip, p.vm.vpc
                if p.new_host_key and not row.host_key:
                    row.host_key = p.new_host_key
                if p.public_key:
                    row.public_key = p.public_key
                if p.gone:
                    row.state, row.reason = "down", p.gone
                elif p.fail:
                    row.state, row.reason, row.config_digest = "failed", p.fail, ""
                    report.failed[p.key] = p.fail
                elif p.pushed:
                    row.state, row.reason = "up", ""
                    row.config_digest = digest(p.config)
                    row.endpoints = dict(p.endpoints)
                    report.pushed.append(p.key)
            s.flush()
            report.peers = [state.peer_model(r) for r in state.load(s, self.name).peers]

    # ------------------------------------------------------------ security groups
    def check_sgs(self, peers: list[_Peer], rules: dict[str, list[Rule]], open_ports: bool) -> list[SGGap]:
        by_key = {p.key: p for p in peers}
        sources: dict[str, set[str]] = {}
        for src, rs in rules.items():
            sp = by_key[src]
            for r in rs:
                if sp.vm is None:
                    continue
                ip = sp.vm.private_ip if r.scope == "intra" else sp.vm.public_ip
                if ip:
                    sources.setdefault(r.peer, set()).add(ip)
        port = self.spec.port
        gaps: list[SGGap] = []
        sg_cache: dict[tuple[str, str], list[SecurityRule]] = {}
        for p in peers:
            if p.vm is None or p.gone or p.key not in sources:
                continue
            cloud = self.cloud(p.connection)
            try:
                allowed: list[SecurityRule] = []
                for sg in p.vm.security_groups:
                    if (p.connection, sg) not in sg_cache:
                        sg_cache[(p.connection, sg)] = list(cloud.security_groups.get(sg).rules)
                    allowed += sg_cache[(p.connection, sg)]
            except McInfraError as exc:
                gaps.append(SGGap(p.connection, p.vm_name, list(p.vm.security_groups), [], error=str(exc)))
                continue
            missing = sorted(ip for ip in sources[p.key] if not _udp_open(allowed, port, ip))
            if not missing:
                continue
            gap = SGGap(p.connection, p.vm_name, list(p.vm.security_groups), missing)
            if open_ports and p.vm.security_groups:
                sg = p.vm.security_groups[0]
                rule = SecurityRule(direction="inbound", protocol="UDP", from_port=port, to_port=port,
                                    cidr="0.0.0.0/0")
                try:
                    if not _udp_open(sg_cache[(p.connection, sg)], port, "0.0.0.0"):
                        cloud.security_groups.add_rules(sg, [rule])
                        sg_cache[(p.connection, sg)].append(rule)
                    gap.added = sg
                except McInfraError as exc:
                    gap.error = str(exc)
            gaps.append(gap)
        return gaps


def _udp_open(rules: list[SecurityRule], port: int, source: str) -> bool:
    addr = ipaddress.ip_address(source)
    for r in rules:
        if r.direction != "inbound" or r.protocol not in ("UDP", "ALL"):
            continue
        if r.protocol == "UDP" and not r.from_port <= port <= r.to_port:
            continue
        net = ipaddress.ip_network(r.cidr)
        if net.version == addr.version and addr in net:
            return True
    return False


def _converge(infra: Any, name: str, *, add: list[tuple[str, str]], force_all: bool,
              ssh_keys: remote.SSHKeys, concurrency: int, mode: str, shared_host: bool,
              open_ports: bool, progress: Progress | bool | None, connect_timeout: float) -> DeployReport:
    started = time.perf_counter()
    run = _Run(infra, name, ssh_keys, concurrency=concurrency, mode=mode,
               progress=progress if callable(progress) else None, connect_timeout=connect_timeout)
    peers = run.load(add, shared_host)
    targets = {p.key for p in peers} if force_all else set()
    if progress is True:  # a bar, in a terminal or a notebook
        with rich_bar(f"cladnet {name}", len(peers)) as step:
            run.progress = lambda key, event: step(f"{key}: {event}", True)
            run_sync(run.converge(peers, targets))
    else:
        run_sync(run.converge(peers, targets))
    report = DeployReport(net=name)
    rules = run.plan(peers)
    report.sg_gaps = run.check_sgs(peers, rules, open_ports)
    run.record(peers, report)
    report.bytes_sent = run.bytes_sent
    report.seconds = time.perf_counter() - started
    return report


def deploy(infra: Any, net: str, vms: Iterable[str | tuple[str, str]] = (), *, ssh_keys: remote.SSHKeys,
           concurrency: int = 16, mode: str = "auto", shared_host: bool = False, open_ports: bool = False,
           progress: Progress | bool | None = None, connect_timeout: float = 15.0) -> DeployReport:
    """Join ``vms`` (``"conn/vm"`` or ``(conn, vm)``) to ``net`` and (re)configure every peer.

    Every peer of the net is pushed its config (idempotent); peers that failed before are
    retried. ``mode``: ``kernel``, ``userspace`` (wireguard-go) or ``auto`` (kernel, else
    wireguard-go). ``shared_host``: VMs share one kernel and file system (twin namespaces),
    so each peer gets its own interface name. ``open_ports``: add an inbound UDP rule for
    the port to a VM's first security group when it is not open. ``progress``: a callback
    ``(peer, event)``, or ``True`` for a progress bar (terminal or notebook).
    """
    refs = parse_vm_refs(vms)
    return _converge(infra, net, add=refs, force_all=True, ssh_keys=ssh_keys, concurrency=concurrency,
                     mode=mode, shared_host=shared_host, open_ports=open_ports, progress=progress,
                     connect_timeout=connect_timeout)


def update(infra: Any, net: str, *, ssh_keys: remote.SSHKeys, concurrency: int = 16, mode: str = "auto",
           open_ports: bool = False, progress: Progress | bool | None = None,
           connect_timeout: float = 15.0) -> DeployReport:
    """Re-read the VMs' IPs, re-plan, and push only to peers whose config changed."""
    return _converge(infra, net, add=[], force_all=False, ssh_keys=ssh_keys, concurrency=concurrency,
                     mode=mode, shared_host=False, open_ports=open_ports, progress=progress,
                     connect_timeout=connect_timeout)
