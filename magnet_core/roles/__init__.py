"""Roles of the Magnet method: one module per role, each a versioned prompt, a strict parser and an offline implementation."""
