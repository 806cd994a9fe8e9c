"""State of the fake Compute Engine project: resources, operations, links, paging, errors."""

from __future__ import annotations

import ipaddress
import itertools
from datetime import UTC, datetime
from typing import Any

from tests.fakes.gcp import catalog
from tests.fakes.server import HttpError, Request

BASE = "https://www.googleapis.com/compute/v1"


def now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


def last(link: str) -> str:
    return link.rstrip("/").rsplit("/", 1)[-1]


def not_found(what: str) -> HttpError:
    return HttpError(404, "notFound", f"The resource '{what}' was not found")


def in_use(what: str, user: str) -> HttpError:
    return HttpError(400, "resourceInUseByAnotherResource", f"The {what} resource is already being used by '{user}'")


def bad(message: str, reason: str = "invalid") -> HttpError:
    return HttpError(400, reason, message)


class ComputeState:
    """Every resource lives in ``store[(project, scope, collection)][name]`` as its JSON dict;
    ``scope`` is ``global``, ``regions/<r>`` or ``zones/<z>``."""

    def __init__(self, *, page_size: int = 500, op_polls: int = 0, transitions: bool = False) -> None:
        #: items per list page unless the client asks for fewer (maxResults)
        self.page_size = page_size
        #: how many operation polls answer RUNNING before DONE (0: mutations return DONE)
        self.op_polls = op_polls
        #: instances pass through PROVISIONING/STAGING/STOPPING... on successive reads
        self.transitions = transitions
        self.reset()

    def reset(self) -> None:
        self.store: dict[tuple[str, str, str], dict[str, dict[str, Any]]] = {}
        self.ops: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
        self._op_left: dict[str, int] = {}
        #: instance selfLink -> statuses still to pass through, one per read
        self.pending: dict[str, list[str]] = {}
        #: operations that should finish with an error: operationType -> (code, message)
        self.op_errors: dict[str, tuple[str, str, int]] = {}
        self._ids = itertools.count(7_000_000_000_000_000_000)
        self._ops = itertools.count(1)
        self._nat = ipaddress.ip_address("34.30.0.10")
        self._used_ips: dict[str, set[str]] = {}

    # ------------------------------------------------------------ links and lookups
    @staticmethod
    def link(project: str, scope: str, collection: str, name: str | None = None) -> str:
        out = f"{BASE}/projects/{project}/{scope}/{collection}"
        return f"{out}/{name}" if name else out

    @staticmethod
    def parse_ref(ref: str, project: str) -> tuple[str, str, str, str]:
        """A full or partial resource URL -> (project, scope, collection, name)."""
        path = ref.split("/compute/v1/", 1)[-1].strip("/")
        parts = path.split("/")
        if parts[0] == "projects":
            project, parts = parts[1], parts[2:]
        if parts and parts[0] == "global":
            scope, rest = "global", parts[1:]
        elif len(parts) >= 2 and parts[0] in ("regions", "zones"):
            scope, rest = f"{parts[0]}/{parts[1]}", parts[2:]
        else:
            raise bad(f"Invalid value for field 'resource': '{ref}'. The URL is malformed.")
        if len(rest) < 2:
            raise bad(f"Invalid value for field 'resource': '{ref}'. The URL is malformed.")
        return project, scope, rest[-2], rest[-1]

    def coll(self, project: str, scope: str, collection: str) -> dict[str, dict[str, Any]]:
        return self.store.setdefault((project, scope, collection), {})

    def get(self, project: str, scope: str, collection: str, name: str) -> dict[str, Any]:
        item = self.coll(project, scope, collection).get(name)
        if item is None:
            raise not_found(f"projects/{project}/{scope}/{collection}/{name}")
        return item

    def deref(self, ref: str, project: str, collection: str) -> dict[str, Any]:
        """The resource a reference points at, checking it is of the expected collection."""
        p, scope, coll, name = self.parse_ref(ref, project)
        if coll != collection:
            raise bad(f"Invalid value for field 'resource': '{ref}'. Expected a {collection} URL.")
        return self.get(p, scope, coll, name)

    def all_of(self, collection: str) -> list[dict[str, Any]]:
        return [r for (_, _, c), items in self.store.items() if c == collection for r in items.values()]

    def new_resource(
        self, project: str, scope: str, collection: str, kind: str, body: dict[str, Any]
    ) -> dict[str, Any]:
        name = body.get("name")
        if not name:
            raise bad("Required field 'resource.name' not specified", "required")
        items = self.coll(project, scope, collection)
        if name in items:
            raise HttpError(
                409,
                "alreadyExists",
                f"The resource 'projects/{project}/{scope}/{collection}/{name}' already exists",
            )
        res = dict(body)
        res.update(
            kind=f"compute#{kind}",
            id=str(next(self._ids)),
            creationTimestamp=now(),
            selfLink=self.link(project, scope, collection, name),
        )
        if scope.startswith("regions/"):
            res["region"] = f"{BASE}/projects/{project}/{scope}"
        if scope.startswith("zones/"):
            res["zone"] = f"{BASE}/projects/{project}/{scope}"
        items[name] = res
        return res

    # ------------------------------------------------------------ addresses
    def alloc_ip(self, subnet: dict[str, Any]) -> str:
        net = ipaddress.ip_network(subnet["ipCidrRange"])
        used = self._used_ips.setdefault(subnet["selfLink"], set())
        for i, host in enumerate(net.hosts()):
            if i == 0:
                continue  # .1 is the gateway
            if str(host) not in used:
                used.add(str(host))
                return str(host)
        raise HttpError(400, "ipSpaceExhausted", f"IP space of '{subnet['selfLink']}' is exhausted")

    def free_ip(self, subnet_link: str, ip: str) -> None:
        self._used_ips.get(subnet_link, set()).discard(ip)

    def alloc_nat(self) -> str:
        self._nat += 1
        return str(self._nat)

    # ------------------------------------------------------------ operations
    def operation(self, req: Request, scope: str, op_type: str, target: dict[str, Any] | str) -> dict[str, Any]:
        project = req.params["project"]
        name = f"operation-{next(self._ops)}-{op_type}"
        target_link = target if isinstance(target, str) else target["selfLink"]
        ts = now()
        op: dict[str, Any] = {
            "kind": "compute#operation",
            "id": str(next(self._ids)),
            "name": name,
            "operationType": op_type,
            "targetLink": target_link,
            "status": "DONE",
            "user": "fake@mcinfra.test",
            "progress": 100,
            "insertTime": ts,
            "startTime": ts,
            "endTime": ts,
            "selfLink": self.link(project, scope, "operations", name),
        }
        if not isinstance(target, str):
            op["targetId"] = target["id"]
        if scope.startswith("zones/"):
            op["zone"] = f"{BASE}/projects/{project}/{scope}"
        elif scope.startswith("regions/"):
            op["region"] = f"{BASE}/projects/{project}/{scope}"
        failure = self.op_errors.pop(op_type, None)
        if failure:
            code, message, http = failure
            op["error"] = {"errors": [{"code": code, "message": message}]}
            op["httpErrorStatusCode"] = http
            op["httpErrorMessage"] = "BAD REQUEST" if http == 400 else "ERROR"
        if self.op_polls > 0:
            op.update(status="RUNNING", progress=0)
            op.pop("endTime", None)
            self._op_left[name] = self.op_polls
        self.ops.setdefault((project, scope), {})[name] = op
        return dict(op)

    def poll_operation(self, project: str, scope: str, name: str) -> dict[str, Any]:
        op = self.ops.get((project, scope), {}).get(name)
        if op is None:
            raise not_found(f"projects/{project}/{scope}/operations/{name}")
        left = self._op_left.get(name, 0)
        if left > 0:
            self._op_left[name] = left - 1
            if left - 1 == 0:
                op.update(status="DONE", progress=100, endTime=now())
        return dict(op)

    # ------------------------------------------------------------ lists
    def page(self, req: Request, items: list[dict[str, Any]], kind: str, self_link: str) -> dict[str, Any]:
        size = min(int(req.q("maxResults") or self.page_size), self.page_size)
        start = int(req.q("pageToken") or 0)
        out: dict[str, Any] = {
            "kind": f"compute#{kind}",
            "id": self_link.split("/compute/v1/", 1)[-1],
            "items": items[start : start + size],
            "selfLink": self_link,
        }
        if start + size < len(items):
            out["nextPageToken"] = str(start + size)
        return out

    # ------------------------------------------------------------ catalog
    def region(self, project: str, region: str) -> dict[str, Any]:
        if region not in catalog.REGIONS:
            raise not_found(f"projects/{project}/regions/{region}")
        return catalog.region_json(BASE, project, region)

    def zone(self, project: str, zone: str) -> dict[str, Any]:
        region = zone.rsplit("-", 1)[0]
        if zone not in catalog.REGIONS.get(region, {}):
            raise not_found(f"projects/{project}/zones/{zone}")
        return catalog.zone_json(BASE, project, zone)

    def images(self, project: str) -> list[dict[str, Any]]:
        return [catalog.image_json(BASE, project, e) for e in catalog.IMAGES.get(project, [])]

    def image(self, project: str, name: str) -> dict[str, Any]:
        for img in self.images(project):
            if img["name"] == name:
                return img
        raise not_found(f"projects/{project}/global/images/{name}")

    def image_from_family(self, project: str, family: str) -> dict[str, Any]:
        for img in self.images(project):
            if img["family"] == family:
                return img
        raise not_found(f"projects/{project}/global/images/family/{family}")

    def resolve_image(self, ref: str, project: str) -> dict[str, Any]:
        path = ref.split("/compute/v1/", 1)[-1].strip("/")
        parts = path.split("/")
        if len(parts) == 6 and parts[0] == "projects" and parts[4] == "family":
            return self.image_from_family(parts[1], parts[5])
        if len(parts) == 5 and parts[0] == "projects" and parts[2:4] == ["global", "images"]:
            return self.image(parts[1], parts[4])
        if len(parts) == 3 and parts[:2] == ["global", "images"]:
            return self.image(project, parts[2])
        raise bad(f"Invalid value for field 'resource.disks[0].initializeParams.sourceImage': '{ref}'.")

    def machine_types(self, project: str, zone: str) -> list[dict[str, Any]]:
        self.zone(project, zone)
        return [catalog.machine_type_json(BASE, project, zone, e) for e in catalog.machine_types_for(zone)]

    def machine_type(self, project: str, zone: str, name: str) -> dict[str, Any]:
        for mt in self.machine_types(project, zone):
            if mt["name"] == name:
                return mt
        raise not_found(f"projects/{project}/zones/{zone}/machineTypes/{name}")
