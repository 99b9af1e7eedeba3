"""Test helpers shipped with the pack: a generic loopback OpenAI-compatible server with fault injection."""
