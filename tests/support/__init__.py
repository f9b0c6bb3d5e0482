"""Helpers the tests share: engines, emulator clients, fixtures builders (not tests)."""
