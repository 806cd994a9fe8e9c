"""The OpenStack driver (openstacksdk: Keystone, Neutron, Nova, Glance, Octavia)."""
