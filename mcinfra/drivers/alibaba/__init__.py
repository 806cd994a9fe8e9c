"""Alibaba Cloud driver: ECS, VPC and NLB through the official alibabacloud-* SDKs."""
