"""Deployment: the Pulumi program, its components per cloud, keys, the offline plan and
the CrossGuard policy pack."""
