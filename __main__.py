"""Pulumi entry point: `pulumi up` deploys the stack's topology (see modules/program.py)."""

from netweave.deploy.program import main

main()
