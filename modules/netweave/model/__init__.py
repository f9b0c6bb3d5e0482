"""The topology as written: the pydantic schema (``topology``), YAML with positions
(``source``), files named on the command line (``gitref``) and the name/address index."""
