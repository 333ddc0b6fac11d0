"""Verification that every kept trajectory passes before it is stored, with a named reason for each refusal."""
