"""The fake subscription's catalog: locations with zones, VM sizes, marketplace images."""

from __future__ import annotations

from typing import Any

#: (name, display name, paired region)
LOCATIONS = [
    ("koreacentral", "Korea Central", "koreasouth"),
    ("eastus", "East US", "westus"),
    ("westeurope", "West Europe", "northeurope"),
]

#: name -> (vCPUs, memory MiB, OS disk MiB, resource disk MiB, max data disks)
SIZES = {
    "Standard_B1s": (1, 1024, 1047552, 4096, 2),
    "Standard_B1ms": (1, 2048, 1047552, 4096, 2),
    "Standard_B2s": (2, 4096, 1047552, 8192, 4),
    "Standard_D2s_v5": (2, 8192, 1047552, 0, 4),
    "Standard_D4s_v5": (4, 16384, 1047552, 0, 8),
    "Standard_F2s_v2": (2, 4096, 1047552, 16384, 4),
}

#: publisher -> offer -> sku -> versions (oldest first)
IMAGES: dict[str, dict[str, dict[str, list[str]]]] = {
    "Canonical": {
        "ubuntu-24_04-lts": {"server": ["24.04.202501140", "24.04.202502210"]},
        "0001-com-ubuntu-server-jammy": {"22_04-lts-gen2": ["22.04.202501150", "22.04.202502200"]},
    },
    "Debian": {"debian-12": {"12-gen2": ["0.20250113.1980", "0.20250210.2019"]}},
}


def location(sub: str, name: str, display: str, pair: str) -> dict[str, Any]:
    return {
        "id": f"/subscriptions/{sub}/locations/{name}",
        "name": name,
        "type": "Region",
        "displayName": display,
        "regionalDisplayName": f"(Asia Pacific) {display}" if name == "koreacentral" else display,
        "metadata": {"regionType": "Physical", "regionCategory": "Recommended", "geographyGroup": "Asia Pacific",
                     "longitude": "126.978", "latitude": "37.5665", "physicalLocation": display,
                     "pairedRegion": [{"name": pair, "id": f"/subscriptions/{sub}/locations/{pair}"}]},
        "availabilityZoneMappings": [{"logicalZone": z, "physicalZone": f"{name}-az{z}"} for z in ("1", "2", "3")],
    }


def size(name: str) -> dict[str, Any]:
    cores, mem, os_disk, res_disk, disks = SIZES[name]
    return {"name": name, "numberOfCores": cores, "memoryInMB": mem, "osDiskSizeInMB": os_disk,
            "resourceDiskSizeInMB": res_disk, "maxDataDiskCount": disks}


def versions(publisher: str, offer: str, sku: str) -> list[str] | None:
    for p, offers in IMAGES.items():
        if p.lower() != publisher.lower():
            continue
        for o, skus in offers.items():
            if o.lower() != offer.lower():
                continue
            for s, vers in skus.items():
                if s.lower() == sku.lower():
                    return vers
    return None
