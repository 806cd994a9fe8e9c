"""AWS driver (boto3): EC2 VPC/subnet, security group, key pair, instance; ELBv2 network LB."""
