"""Test helpers shipped with the pack (loopback server)."""
