"""The fake's read-only catalog: regions, zones, public images and instance types.

Values follow Alibaba's published examples (ids, names, families); the set is small on purpose.
"""

from __future__ import annotations

from typing import Any

REGIONS: dict[str, dict[str, Any]] = {
    "cn-hangzhou": {"LocalName": "China (Hangzhou)", "zones": ["cn-hangzhou-h", "cn-hangzhou-i", "cn-hangzhou-j"]},
    "cn-beijing": {"LocalName": "China (Beijing)", "zones": ["cn-beijing-a", "cn-beijing-b"]},
    "ap-southeast-1": {"LocalName": "Singapore", "zones": ["ap-southeast-1a", "ap-southeast-1b"]},
}

#: (ImageId, OSName, OSType, Platform, Architecture, Size GiB)
IMAGES: list[tuple[str, str, str, str, str, int]] = [
    ("ubuntu_22_04_x64_20G_alibase_20240130.vhd", "Ubuntu  22.04 64位", "linux", "Ubuntu", "x86_64", 20),
    ("ubuntu_20_04_x64_20G_alibase_20240130.vhd", "Ubuntu  20.04 64位", "linux", "Ubuntu", "x86_64", 20),
    ("debian_12_5_x64_20G_alibase_20240419.vhd", "Debian  12.5 64位", "linux", "Debian", "x86_64", 20),
    ("aliyun_3_x64_20G_alibase_20240528.vhd", "Alibaba Cloud Linux  3.2104 LTS 64位", "linux", "Aliyun", "x86_64", 20),
    ("centos_7_9_x64_20G_alibase_20240403.vhd", "CentOS  7.9 64位", "linux", "CentOS", "x86_64", 20),
    (
        "win2022_21H2_x64_dtc_en-us_40G_alibase_20240515.vhd",
        "Windows Server  2022 数据中心版 64位英文版",
        "windows",
        "Windows Server 2022",
        "x86_64",
        40,
    ),
    ("ubuntu_22_04_arm64_20G_alibase_20240130.vhd", "Ubuntu  22.04 64位 ARM版", "linux", "Ubuntu", "arm64", 20),
]

#: (InstanceTypeId, family, vCPUs, memory GiB)
INSTANCE_TYPES: list[tuple[str, str, int, float]] = [
    ("ecs.t5-lc1m1.small", "ecs.t5", 1, 1.0),
    ("ecs.t5-lc1m2.small", "ecs.t5", 1, 2.0),
    ("ecs.t6-c1m1.large", "ecs.t6", 2, 2.0),
    ("ecs.g7.large", "ecs.g7", 2, 8.0),
    ("ecs.g7.xlarge", "ecs.g7", 4, 16.0),
    ("ecs.c7.large", "ecs.c7", 2, 4.0),
    ("ecs.r7.large", "ecs.r7", 2, 16.0),
    ("ecs.g8y.large", "ecs.g8y", 2, 8.0),
]

SYSTEM_DISK_CATEGORIES = ["cloud_efficiency", "cloud_ssd", "cloud_essd", "cloud_auto"]


def image_body(entry: tuple[str, str, str, str, str, int]) -> dict[str, Any]:
    image_id, os_name, os_type, platform, arch, size = entry
    return {
        "ImageId": image_id,
        "ImageName": image_id,
        "ImageOwnerAlias": "system",
        "OSName": os_name,
        "OSNameEn": os_name.replace("位", "bit"),
        "OSType": os_type,
        "Platform": platform,
        "Architecture": arch,
        "Size": size,
        "Status": "Available",
        "IsPublic": True,
        "IsSupportCloudinit": True,
        "IsSupportIoOptimized": True,
        "Usage": "instance",
        "CreationTime": "2024-01-30T08:00:00Z",
        "Progress": "100%",
        "BootMode": "BIOS",
        "DiskDeviceMappings": {"DiskDeviceMapping": [{"Device": "/dev/xvda", "Size": str(size), "Type": "system"}]},
    }


def instance_type_body(entry: tuple[str, str, int, float]) -> dict[str, Any]:
    type_id, family, vcpus, memory = entry
    return {
        "InstanceTypeId": type_id,
        "InstanceTypeFamily": family,
        "CpuCoreCount": vcpus,
        "MemorySize": memory,
        "CpuArchitecture": "ARM" if family.endswith("y") else "X86",
        "GPUAmount": 0,
        "GPUSpec": "",
        "EniQuantity": 2,
        "InstanceCategory": "General-purpose",
        "InstanceFamilyLevel": "CreditEntryLevel" if family in ("ecs.t5", "ecs.t6") else "EnterpriseLevel",
        "LocalStorageCategory": "",
    }
