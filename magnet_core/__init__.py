"""Magnet Factory domain logic. Never imports Prefect: flows/ and tasks/ wrap what lives here."""

from magnet_core import offline_env as _offline_env

_offline_env.apply()

__version__ = "0.1.0"
