"""Deployments: work pools, schedules and the `magnet deploy` registration."""
