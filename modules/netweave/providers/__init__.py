"""Pulumi dynamic providers, one package per cloud API that has no Pulumi provider."""
