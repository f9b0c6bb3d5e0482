"""The derived design: everything the topology implies, computed once after lint, as typed
frozen data that every output reads. Imports no Pulumi and no renderer."""
