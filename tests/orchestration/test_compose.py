"""docker-compose.yml against the Compose specification, plus the stack's security and wiring rules.

No Docker engine runs here, so the file is checked statically. `compose_spec.json` is the Compose
Specification JSON schema as shipped in the PyPI package `docker-compose==1.29.2`
(`compose/config/compose_spec.json`, Apache-2.0), vendored unchanged.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMA = json.loads((Path(__file__).parent / "compose_spec.json").read_text())


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def _env(service: dict) -> dict:
    return service.get("environment") or {}


def test_compose_file_matches_the_compose_specification(compose):
    errors = sorted(jsonschema.Draft7Validator(SCHEMA).iter_errors(compose), key=lambda e: list(e.path))
    assert not errors, [f"{list(e.path)}: {e.message}" for e in errors]


def test_schema_check_catches_a_broken_file(compose):
    broken = json.loads(json.dumps(compose))
    broken["services"]["redis"]["healthcheck"] = {"test": 5}
    broken["services"]["worker"]["depends_on"] = {"prefect-server": {"condition": "when_ready"}}
    assert len(list(jsonschema.Draft7Validator(SCHEMA).iter_errors(broken))) >= 2


def test_stack_has_every_part(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "prefect-server", "prefect-services", "worker"):
        assert name in services, name
    assert services["prefect-server"]["command"][:3] == ["prefect", "server", "start"]
    assert "--no-services" in services["prefect-server"]["command"]
    assert services["prefect-services"]["command"] == ["prefect", "server", "services", "start"]
    assert services["worker"]["command"][:3] == ["prefect", "worker", "start"]
    assert "magnet-cpu" in services["worker"]["command"]
    assert "magnet-gpu" in services["gpu-worker"]["command"]
    # the worker runs the project: it is built from the project's Dockerfile
    assert services["prefect-server"]["build"]["dockerfile"] == "deployments/Dockerfile"
    assert (ROOT / "deployments" / "Dockerfile").is_file()
    assert services["worker"]["image"] == services["prefect-server"]["image"]


def test_api_is_bound_to_localhost_and_protected(compose):
    server = compose["services"]["prefect-server"]
    published = [str(port) for port in server["ports"]]
    assert len(published) == 1
    assert re.fullmatch(r"\$\{PREFECT_BIND_ADDRESS:-127\.0\.0\.1\}:\$\{PREFECT_UI_PORT:-4200\}:4200", published[0])
    for name, service in compose["services"].items():
        if name != "prefect-server":
            assert "ports" not in service, f"{name} must not be published"
    auth = "${PREFECT_SERVER_API_AUTH_STRING:?"
    assert _env(server)["PREFECT_SERVER_API_AUTH_STRING"].startswith(auth)
    assert _env(compose["services"]["prefect-services"])["PREFECT_SERVER_API_AUTH_STRING"].startswith(auth)
    for worker in ("worker", "gpu-worker"):
        assert _env(compose["services"][worker])["PREFECT_API_AUTH_STRING"].startswith(auth)
    # no literal secret anywhere in the file
    assert "admin:" not in (ROOT / "docker-compose.yml").read_text()


def test_messaging_uses_redis_and_database_is_postgres(compose):
    for name in ("prefect-server", "prefect-services"):
        env = _env(compose["services"][name])
        assert env["PREFECT_MESSAGING_BROKER"] == "prefect_redis.messaging"
        assert env["PREFECT_MESSAGING_CACHE"] == "prefect_redis.messaging"
        assert env["PREFECT_REDIS_MESSAGING_HOST"] == "redis"
        assert env["PREFECT_API_DATABASE_CONNECTION_URL"].startswith("postgresql+asyncpg://")
        assert env["PREFECT_SERVER_ANALYTICS_ENABLED"] == "false"


def test_data_lives_on_named_volumes(compose):
    declared = set(compose["volumes"])
    assert {"postgres-data", "redis-data", "magnet-data", "magnet-work"} <= declared
    for name, service in compose["services"].items():
        for mount in service.get("volumes", []):
            source = mount.split(":", 1)[0]
            assert source in declared, f"{name}: {mount} is not a named volume"
    mounts = {m.split(":")[0] for m in compose["services"]["postgres"]["volumes"]}
    assert "postgres-data" in mounts


def test_healthchecks_gate_startup(compose):
    services = compose["services"]
    for name in ("postgres", "redis", "prefect-server"):
        assert services[name]["healthcheck"]["test"], name
    assert services["prefect-server"]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "redis": {"condition": "service_healthy"},
    }
    assert services["prefect-services"]["depends_on"]["prefect-server"] == {"condition": "service_healthy"}
    assert services["worker"]["depends_on"]["prefect-server"] == {"condition": "service_healthy"}
