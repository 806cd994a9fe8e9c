"""The fake's seeded catalog: regions, zones, public images, instance types.

Names and ids follow the published examples' shapes (``ap-guangzhou``, ``ap-guangzhou-3`` with
ZoneId ``100003``, ``img-...``, ``S5.SMALL2``); the values are made up.
"""

from __future__ import annotations

from typing import Any

#: region -> (display name, state); zones are <region>-<n> for n in ZONES_PER_REGION
REGIONS: dict[str, tuple[str, str]] = {
    "ap-guangzhou": ("South China(Guangzhou)", "AVAILABLE"),
    "ap-shanghai": ("East China(Shanghai)", "AVAILABLE"),
    "ap-beijing": ("North China(Beijing)", "AVAILABLE"),
    "ap-singapore": ("Southeast Asia(Singapore)", "AVAILABLE"),
    "na-siliconvalley": ("West US(Silicon Valley)", "UNAVAILABLE"),
}
ZONES_PER_REGION = (3, 4, 6, 7)
#: zones sold out everywhere (state UNAVAILABLE), to show the driver passes the state on
UNAVAILABLE_ZONE_NUMBER = 7


def zones(region: str) -> list[dict[str, Any]]:
    base = 100000 * (list(REGIONS).index(region) + 1)
    out = []
    for n in ZONES_PER_REGION:
        out.append(
            {
                "Zone": f"{region}-{n}",
                "ZoneName": f"{REGIONS[region][0].split('(')[-1].rstrip(')')} Zone {n}",
                "ZoneId": str(base + n),
                "ZoneState": "UNAVAILABLE" if n == UNAVAILABLE_ZONE_NUMBER else "AVAILABLE",
            }
        )
    return out


def zone_names(region: str) -> list[str]:
    return [z["Zone"] for z in zones(region)]


#: (ImageId, ImageName, OsName, Platform, size GB)
IMAGES: list[tuple[str, str, str, str, int]] = [
    ("img-487zeit5", "Ubuntu Server 22.04 LTS 64bit", "Ubuntu Server 22.04 LTS 64bit", "Ubuntu", 20),
    ("img-22trbn9x", "Ubuntu Server 20.04 LTS 64bit", "Ubuntu Server 20.04 LTS 64bit", "Ubuntu", 20),
    ("img-eb30mz89", "TencentOS Server 3.1 (TK4)", "TencentOS Server 3.1 (TK4)", "TencentOS", 20),
    ("img-l8og963d", "CentOS 7.9 64bit", "CentOS 7.9 64bit", "CentOS", 20),
    ("img-9axl1k53", "Debian 12.0 64bit", "Debian 12.0 64bit", "Debian", 20),
    ("img-mmytdhbn", "Rocky Linux 9.2 64bit", "Rocky Linux 9.2 64bit", "Rocky Linux", 20),
    ("img-9id7emv7", "Windows Server 2022 DataCenter 64bit Chinese", "Windows Server 2022 DataCenter 64bit",
     "Windows", 50),
]


def image(image_id: str, name: str, os_name: str, platform: str, size: int) -> dict[str, Any]:
    return {
        "ImageId": image_id,
        "OsName": os_name,
        "ImageType": "PUBLIC_IMAGE",
        "CreatedTime": "2023-06-01T08:00:00Z",
        "ImageName": name,
        "ImageDescription": name,
        "ImageSize": size,
        "Architecture": "x86_64",
        "ImageState": "NORMAL",
        "Platform": platform,
        "ImageCreator": "",
        "ImageSource": "OFFICIAL",
        "SyncPercent": None,
        "IsSupportCloudinit": True,
        "SnapshotSet": [],
        "Tags": [],
        "LicenseType": "TencentCloud",
        "ImageFamily": "",
        "ImageDeprecated": False,
    }


def images() -> list[dict[str, Any]]:
    return [image(*row) for row in IMAGES]


#: (InstanceType, family, CPU, memory GB, GPU count)
INSTANCE_TYPES: list[tuple[str, str, int, int, int]] = [
    ("S5.SMALL1", "S5", 1, 1, 0),
    ("S5.SMALL2", "S5", 1, 2, 0),
    ("S5.MEDIUM4", "S5", 2, 4, 0),
    ("S5.LARGE8", "S5", 4, 8, 0),
    ("SA2.MEDIUM4", "SA2", 2, 4, 0),
    ("GN7.2XLARGE32", "GN7", 8, 32, 1),
]


def instance_type_configs(region: str) -> list[dict[str, Any]]:
    out = []
    for zone in zone_names(region):
        for name, family, cpu, mem, gpu in INSTANCE_TYPES:
            out.append(
                {
                    "Zone": zone,
                    "InstanceType": name,
                    "InstanceFamily": family,
                    "GPU": gpu,
                    "CPU": cpu,
                    "Memory": mem,
                    "FPGA": 0,
                    "GpuCount": float(gpu),
                }
            )
    return out


def instance_type_quota(region: str) -> list[dict[str, Any]]:
    out = []
    for zone in zone_names(region):
        for name, family, cpu, mem, gpu in INSTANCE_TYPES:
            sold_out = zone.endswith(f"-{UNAVAILABLE_ZONE_NUMBER}")
            out.append(
                {
                    "Zone": zone,
                    "InstanceType": name,
                    "InstanceChargeType": "POSTPAID_BY_HOUR",
                    "NetworkCard": 0,
                    "Externals": {},
                    "Cpu": cpu,
                    "Memory": mem,
                    "InstanceFamily": family,
                    "TypeName": f"Standard {family}",
                    "LocalDiskTypeList": [],
                    "Status": "SOLD_OUT" if sold_out else "SELL",
                    "Price": {"UnitPrice": round(0.05 * cpu + 0.02 * mem, 2), "ChargeUnit": "HOUR"},
                    "SoldOutReason": "",
                    "InstanceBandwidth": float(cpu),
                    "InstancePps": 10 * cpu,
                    "StorageBlockAmount": 0,
                    "CpuType": "Intel Xeon Cascade Lake 8255C(2.5 GHz)",
                    "Gpu": gpu,
                    "Fpga": 0,
                    "Remark": "",
                    "GpuCount": float(gpu),
                    "Frequency": "2.5/3.1GHz",
                    "StatusCategory": "LowStock" if sold_out else "EnoughStock",
                }
            )
    return out


DISK_TYPES = ("CLOUD_PREMIUM", "CLOUD_SSD", "CLOUD_BSSD", "CLOUD_HSSD", "CLOUD_BASIC")
