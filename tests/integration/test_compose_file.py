"""docker-compose.yml and deploy/nginx.conf read as data: two identical API replicas behind a load balancer.

No Docker engine runs here, so these tests check the files' structure, not a running stack.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from core.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
REPLICAS = ("api-1", "api-2")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """docker-compose.yml, YAML anchors and merge keys resolved."""
    loaded = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def nginx_conf(compose: dict[str, Any]) -> str:
    """The nginx configuration the load balancer mounts."""
    mounts = [volume.split(":") for volume in compose["services"]["lb"]["volumes"]]
    source = next(host for host, container, *_ in mounts if container == "/etc/nginx/nginx.conf")
    return (ROOT / source).read_text()


def block(text: str, opening: str) -> str:
    """The body of the `{...}` block that starts at `opening` (nginx blocks nest)."""
    start = text.index(opening)
    depth = 0
    for position in range(text.index("{", start), len(text)):
        depth += {"{": 1, "}": -1}.get(text[position], 0)
        if depth == 0:
            return text[start : position + 1]
    raise AssertionError(f"unbalanced block {opening}")


def serve_port(service: dict[str, Any]) -> str:
    command = service["command"]
    return str(command[command.index("--port") + 1])


def test_two_replicas_run_the_same_image_command_and_environment(compose: dict[str, Any]) -> None:
    services = compose["services"]
    first, second = (services[name] for name in REPLICAS)
    assert first["command"] == second["command"] and first["command"][:2] == ["doxa", "serve"]
    assert first["build"] == second["build"] and first["image"] == second["image"]
    assert first["environment"] == second["environment"]
    assert first["env_file"] == second["env_file"]
    assert "ports" not in first and "ports" not in second  # only the load balancer is published
    assert first["volumes"] != second["volumes"]  # each its own cache folder; shared state is in Postgres


def test_all_state_is_in_the_shared_servers(compose: dict[str, Any]) -> None:
    services = compose["services"]
    environment = services["api-1"]["environment"]
    assert environment["DOXA_ENVIRONMENT"] == "production"
    assert "@postgres:5432/" in environment["DOXA_DATABASE_URL"]
    assert "@clickhouse:8123" in environment["DOXA_CLICKHOUSE_URL"]
    assert environment["DOXA_VECTOR_BACKEND"] == "qdrant" and environment["DOXA_QDRANT_URL"] == "http://qdrant:6333"
    for name in REPLICAS:
        assert set(services[name]["depends_on"]) == {"postgres", "clickhouse", "qdrant"}
        assert "healthcheck" in services[name]
    declared = set(compose["volumes"])
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            assert source.startswith("./") or source in declared, volume


def test_the_schedule_default_is_a_valid_cron_expression(compose: dict[str, Any]) -> None:
    schedule = compose["services"]["api-1"]["environment"]["DOXA_MINING_SCHEDULE"]
    default = re.fullmatch(r"\$\{DOXA_MINING_SCHEDULE:-(.+)\}", schedule)
    assert default is not None
    assert Settings(mining_schedule=default.group(1), mistral_api_key=None).mining_schedule == "0 2 * * *"


def test_the_load_balancer_routes_to_both_replicas(compose: dict[str, Any], nginx_conf: str) -> None:
    lb = compose["services"]["lb"]
    assert lb["image"].startswith("nginx:")
    assert set(lb["depends_on"]) == set(REPLICAS)
    assert [port.split(":")[-1] for port in lb["ports"]] == ["80"]
    assert "listen 80;" in nginx_conf

    upstream = block(nginx_conf, "upstream doxa_api")
    servers = re.findall(r"^\s*server\s+([\w.-]+):(\d+)", upstream, flags=re.MULTILINE)
    assert sorted(servers) == sorted((name, serve_port(compose["services"][name])) for name in REPLICAS)
    assert "ip_hash" not in upstream and "hash " not in upstream  # no stickiness: replicas are interchangeable
    assert nginx_conf.count("proxy_pass http://doxa_api;") >= 1


def test_event_streams_are_not_buffered_and_bodies_fit_the_app_limits(nginx_conf: str) -> None:
    events = block(nginx_conf, "location ~ ^/tickets/[^/]+/events$")
    assert re.search(r"^/tickets/[^/]+/events$", "/tickets/T-1/events")
    assert "proxy_buffering off;" in events
    read_timeout = re.search(r"proxy_read_timeout (\d+)s;", events)
    assert read_timeout is not None and int(read_timeout.group(1)) > Settings(mistral_api_key=None).api_events_timeout_s

    body_limit = re.search(r"client_max_body_size (\d+)m;", nginx_conf)
    settings = Settings(mistral_api_key=None)
    assert body_limit is not None
    assert int(body_limit.group(1)) * 1024 * 1024 >= max(settings.api_max_process_bytes, settings.max_file_bytes)
    assert nginx_conf.count("{") == nginx_conf.count("}")


def test_prometheus_scrapes_each_replica_not_the_balancer(compose: dict[str, Any]) -> None:
    prometheus = compose["services"]["prometheus"]
    mounts = [volume.split(":") for volume in prometheus["volumes"]]
    source = next(host for host, container, *_ in mounts if container == "/etc/prometheus/prometheus.yml")
    config = yaml.safe_load((ROOT / source).read_text())
    (job,) = [job for job in config["scrape_configs"] if job["job_name"] == "doxa-api"]
    assert job["metrics_path"] == "/metrics"
    targets = [target for group in job["static_configs"] for target in group["targets"]]
    # Counters are per process: through the round-robin balancer one series would mix both replicas' counts.
    assert sorted(targets) == sorted(f"{name}:{serve_port(compose['services'][name])}" for name in REPLICAS)
    assert not [target for target in targets if target.startswith("lb:")]
