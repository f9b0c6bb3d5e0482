"""Pulumi entry point: `pulumi up` deploys the stack's topology (see modules/program.py)."""

from modules.program import main

main()
