"""What a change does: reachability, lint, network and resource differences between two
topologies, and the PR comment that carries them."""
