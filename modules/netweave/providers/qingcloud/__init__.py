"""QingCloud as Pulumi dynamic providers, over the unmodified ``qingcloud-sdk`` client.

One module per cloud object (``vpc``, ``vxnet``, ``nic``, ``instance``, ``eip``,
``security_group``, ``route_push``), a shared ``client`` that knows how the cloud
misbehaves (jobs, retries, transition states, leases) and ``base`` with what every
provider does the same way (naming, adoption, diffs). Importing these modules has no side
effects: the engine's provider host imports them by reference from the pickled providers.
"""
