"""Forwarding: the RIB of every router, BGP to a fixed point, the packet walk and its
explanations. Reads the derived design; answers who reaches whom."""
