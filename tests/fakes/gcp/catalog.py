"""The fake GCP project's read-only catalog: regions/zones, public images, machine types.

Shapes follow the Compute Engine v1 resources (Region, Zone, Image, MachineType).
"""

from __future__ import annotations

from typing import Any

#: region -> {zone: status}
REGIONS: dict[str, dict[str, str]] = {
    "us-central1": {
        "us-central1-a": "UP",
        "us-central1-b": "UP",
        "us-central1-c": "UP",
        "us-central1-f": "UP",
    },
    "us-east1": {"us-east1-b": "UP", "us-east1-c": "UP", "us-east1-d": "UP"},
    "europe-west1": {"europe-west1-b": "UP", "europe-west1-c": "UP", "europe-west1-d": "DOWN"},
    "asia-northeast3": {"asia-northeast3-a": "UP", "asia-northeast3-b": "UP", "asia-northeast3-c": "UP"},
}

REGION_DESCRIPTIONS = {
    "us-central1": "us-central1",
    "us-east1": "us-east1",
    "europe-west1": "europe-west1",
    "asia-northeast3": "asia-northeast3",
}

#: image project -> list of (name, family, description, architecture, disk size GB)
IMAGES: dict[str, list[tuple[str, str, str, str, int]]] = {
    "debian-cloud": [
        (
            "debian-12-bookworm-v20240312",
            "debian-12",
            "Debian, Debian GNU/Linux, 12 (bookworm), amd64",
            "X86_64",
            10,
        ),
        (
            "debian-12-bookworm-arm64-v20240312",
            "debian-12-arm64",
            "Debian, Debian GNU/Linux, 12 (bookworm), arm64",
            "ARM64",
            10,
        ),
        (
            "debian-11-bullseye-v20240312",
            "debian-11",
            "Debian, Debian GNU/Linux, 11 (bullseye), amd64",
            "X86_64",
            10,
        ),
    ],
    "ubuntu-os-cloud": [
        (
            "ubuntu-2204-jammy-v20240319",
            "ubuntu-2204-lts",
            "Canonical, Ubuntu, 22.04 LTS, amd64 jammy image",
            "X86_64",
            10,
        ),
        (
            "ubuntu-2404-noble-amd64-v20240423",
            "ubuntu-2404-lts-amd64",
            "Canonical, Ubuntu, 24.04 LTS, amd64 noble image",
            "X86_64",
            10,
        ),
    ],
}

#: (name, guest CPUs, memory MB, shared CPU, accelerator (type, count) or None, zone suffixes or None=all)
MACHINE_TYPES: list[tuple[str, int, int, bool, tuple[str, int] | None, tuple[str, ...] | None]] = [
    ("e2-micro", 2, 1024, True, None, None),
    ("e2-small", 2, 2048, True, None, None),
    ("e2-medium", 2, 4096, True, None, None),
    ("n2-standard-2", 2, 8192, False, None, None),
    ("n2-standard-4", 4, 16384, False, None, None),
    ("t2a-standard-1", 1, 4096, False, None, ("us-central1-a", "us-central1-b", "us-central1-f")),
    ("a2-highgpu-1g", 12, 87040, False, ("nvidia-tesla-a100", 1), ("us-central1-a", "us-central1-b")),
]

TIMESTAMP = "1969-12-31T16:00:00.000-08:00"
IMAGE_TIMESTAMP = "2024-03-12T10:00:00.000-07:00"


def _id(*parts: str) -> str:
    # Stable uint64-looking ids, as the API returns them (strings).
    import hashlib

    return str(int(hashlib.sha1("/".join(parts).encode()).hexdigest()[:15], 16))


def region_json(base: str, project: str, region: str) -> dict[str, Any]:
    return {
        "kind": "compute#region",
        "id": _id("region", region),
        "creationTimestamp": TIMESTAMP,
        "name": region,
        "description": REGION_DESCRIPTIONS.get(region, region),
        "status": "UP",
        "zones": [f"{base}/projects/{project}/zones/{z}" for z in REGIONS[region]],
        "quotas": [{"metric": "CPUS", "limit": 24.0, "usage": 0.0}],
        "selfLink": f"{base}/projects/{project}/regions/{region}",
        "supportsPzs": False,
    }


def zone_json(base: str, project: str, zone: str) -> dict[str, Any]:
    region = zone.rsplit("-", 1)[0]
    return {
        "kind": "compute#zone",
        "id": _id("zone", zone),
        "creationTimestamp": TIMESTAMP,
        "name": zone,
        "description": zone,
        "status": REGIONS[region][zone],
        "region": f"{base}/projects/{project}/regions/{region}",
        "selfLink": f"{base}/projects/{project}/zones/{zone}",
        "availableCpuPlatforms": ["Intel Cascade Lake", "AMD Milan", "Ampere Altra"],
        "supportsPzs": False,
    }


def image_json(base: str, project: str, entry: tuple[str, str, str, str, int]) -> dict[str, Any]:
    name, family, description, arch, size = entry
    return {
        "kind": "compute#image",
        "id": _id("image", project, name),
        "creationTimestamp": IMAGE_TIMESTAMP,
        "name": name,
        "description": description,
        "family": family,
        "sourceType": "RAW",
        "status": "READY",
        "archiveSizeBytes": "1234567890",
        "diskSizeGb": str(size),
        "architecture": arch,
        "licenses": [f"{base}/projects/{project}/global/licenses/{family}"],
        "guestOsFeatures": [
            {"type": "VIRTIO_SCSI_MULTIQUEUE"},
            {"type": "UEFI_COMPATIBLE"},
            {"type": "GVNIC"},
        ],
        "labelFingerprint": "42WmSpB8rSM=",
        "storageLocations": ["us", "eu", "asia"],
        "selfLink": f"{base}/projects/{project}/global/images/{name}",
    }


def machine_types_for(zone: str) -> list[tuple[str, int, int, bool, tuple[str, int] | None]]:
    return [(n, c, m, s, a) for n, c, m, s, a, zones in MACHINE_TYPES if zones is None or zone in zones]


def machine_type_json(
    base: str, project: str, zone: str, entry: tuple[str, int, int, bool, tuple[str, int] | None]
) -> dict[str, Any]:
    name, cpus, mem, shared, accel = entry
    out: dict[str, Any] = {
        "kind": "compute#machineType",
        "id": _id("machineType", name),
        "creationTimestamp": TIMESTAMP,
        "name": name,
        "description": f"{cpus} vCPU{'s' if cpus > 1 else ''}, {mem / 1024:g} GB RAM",
        "guestCpus": cpus,
        "memoryMb": mem,
        "imageSpaceGb": 0,
        "maximumPersistentDisks": 128,
        "maximumPersistentDisksSizeGb": "263168",
        "zone": zone,
        "selfLink": f"{base}/projects/{project}/zones/{zone}/machineTypes/{name}",
        "isSharedCpu": shared,
        "architecture": "ARM64" if name.startswith("t2a-") else "X86_64",
    }
    if accel:
        out["accelerators"] = [{"guestAcceleratorType": accel[0], "guestAcceleratorCount": accel[1]}]
    return out
