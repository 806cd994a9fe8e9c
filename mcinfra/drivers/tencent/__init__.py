"""Tencent Cloud driver (CVM, VPC, CLB through tencentcloud-sdk-python-*)."""
