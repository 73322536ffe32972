"""The deployment files keep their promises (Docker cannot run here, so they are read): the image
starts in production on a patched Python with the locked dependencies in their own layer; the
locks pin what pyproject.toml asks for; `.env.example` lists every setting; compose health-checks
the scheduler and trusts forwarded headers from its proxy only; `make run` passes PORT and HOST."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from bot.config import Settings
from bot.runtime import COOKIE_FIX

ROOT = Path(__file__).parent.parent
DOCKERFILE = (ROOT / "Dockerfile").read_text(encoding="utf-8")
COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
ENV_EXAMPLE = (ROOT / ".env.example").read_text(encoding="utf-8")
COMPOSE_ONLY = {"WORKERS"}  # FUQING_WORKERS: compose's --workers, not an app setting


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions (continuation lines joined, comments dropped)."""
    joined = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    lines = [line.strip() for line in joined.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def test_image_is_an_exact_patched_python() -> None:
    """FROM names an exact python:X.Y.Z-slim tag at or above CVE-2024-7592's fix for its line."""
    (base,) = [args for kind, args in _instructions() if kind == "FROM"]
    match = re.fullmatch(r"python:(\d+)\.(\d+)\.(\d+)-slim-\w+", base)
    assert match is not None, base
    version = tuple(int(part) for part in match.groups())
    assert version >= COOKIE_FIX.get(version[:2], (3, 13, 0)), base


def test_image_defaults_to_production() -> None:
    """The image sets FUQING_ENV=production (placeholder secrets are refused at start-up)."""
    envs = " ".join(args for kind, args in _instructions() if kind == "ENV")
    assert "FUQING_ENV=production" in envs.split()


def test_image_installs_the_lock_in_its_own_layer_before_the_code() -> None:
    """The lock is copied and installed with hashes before `COPY . .`; the code then adds no
    dependency of its own; the server runs as a non-root user."""
    steps = _instructions()
    copy_lock = steps.index(("COPY", "requirements.lock /tmp/requirements.lock"))
    install = next(
        n for n, (kind, args) in enumerate(steps) if kind == "RUN" and "--require-hashes" in args
    )
    copy_all = steps.index(("COPY", ". ."))
    assert copy_lock < install < copy_all
    after = [args for kind, args in steps[copy_all:] if kind == "RUN" and "pip install" in args]
    assert after and all("--no-deps" in args for args in after)
    (user,) = [args for kind, args in steps if kind == "USER"]
    assert user not in ("root", "0")


def _pins(lock: str) -> dict[str, str]:
    """name → version of each `name==version` line of a lock."""
    found = re.findall(r"^([A-Za-z0-9_.\-]+)==([^\s;\\]+)", lock, re.MULTILINE)
    return {canonicalize_name(name): version for name, version in found}


def _project() -> dict[str, list[str]]:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return {"runtime": project["dependencies"], "dev": project["optional-dependencies"]["dev"]}


@pytest.mark.parametrize(
    ("lock", "groups"),
    [("requirements.lock", ["runtime"]), ("requirements-dev.lock", ["runtime", "dev"])],
)
def test_lock_pins_every_dependency_of_pyproject(lock: str, groups: list[str]) -> None:
    """Each dependency of pyproject.toml is pinned in the lock at a version it allows, and every
    pin carries hashes (`pip install --require-hashes`)."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    pins = _pins(text)
    for group in groups:
        for line in _project()[group]:
            requirement = Requirement(line)
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{requirement.name} is not in {lock}: run `make lock`"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{lock} pins {name}=={pins[name]}, pyproject.toml asks {requirement.specifier}"
            )
    blocks = re.split(r"\n(?=[A-Za-z0-9])", text.split("\n", 2)[2])
    assert all("--hash=sha256:" in block for block in blocks if "==" in block)


def test_dev_lock_agrees_with_the_runtime_lock() -> None:
    """The tests run the versions the image ships: every runtime pin is the same in the dev lock."""
    runtime = _pins((ROOT / "requirements.lock").read_text(encoding="utf-8"))
    dev = _pins((ROOT / "requirements-dev.lock").read_text(encoding="utf-8"))
    assert {name: dev.get(name) for name in runtime} == runtime
    assert "pytest" not in runtime


def test_env_example_lists_every_setting_and_only_settings() -> None:
    """Each Settings field has a `FUQING_<NAME>=` line (commented or not) in .env.example, and
    each FUQING_ name there is a setting (or compose's worker count)."""
    named = set(re.findall(r"^#?\s*FUQING_([A-Z0-9_]+)=", ENV_EXAMPLE, re.MULTILINE))
    fields = {field.upper() for field in Settings.model_fields}
    assert fields - named == set()
    assert named - fields - COMPOSE_ONLY == set()


def test_env_example_leaves_only_the_secrets_to_fill_in() -> None:
    """Uncommented FUQING_ lines are the required secrets, empty: an example never ships a value
    the app would accept."""
    active = dict(re.findall(r"^(FUQING_[A-Z0-9_]+)=(.*)$", ENV_EXAMPLE, re.MULTILINE))
    assert active == {"FUQING_SECRET_KEY": "", "FUQING_API_TOKEN": "", "FUQING_ADMIN_TOKEN": ""}


def _app_services() -> dict[str, dict[str, object]]:
    return {
        name: service
        for name, service in COMPOSE["services"].items()
        if service.get("image") == "fuqing"
    }


def test_compose_reads_every_setting_from_the_env_file() -> None:
    """Every service of the image takes .env as its env_file."""
    services = _app_services()
    assert set(services) == {"migrate", "web", "scheduler"}
    assert all(service["env_file"] == ".env" for service in services.values())


def test_compose_health_checks_the_scheduler_by_its_heartbeat() -> None:
    """The scheduler's health check runs `fuqing scheduler --check`."""
    test = COMPOSE["services"]["scheduler"]["healthcheck"]["test"]
    assert test[:4] == ["CMD", "fuqing", "scheduler", "--check"]


def test_compose_trusts_forwarded_headers_from_its_proxy_only() -> None:
    """web believes X-Forwarded-For from the proxy's fixed address, whose config sets it."""
    web = COMPOSE["services"]["web"]["environment"]
    proxy = COMPOSE["services"]["proxy"]
    address = proxy["networks"]["fuqing"]["ipv4_address"]
    assert web["FUQING_FORWARDED_ALLOW_IPS"] == address
    assert web["FUQING_SCHEDULER"] == "off"
    config = f"./{proxy['volumes'][0].split(':')[0].removeprefix('./')}"
    caddyfile = (ROOT / config).read_text(encoding="utf-8")
    assert "header_up X-Forwarded-For {remote_host}" in caddyfile
    assert "reverse_proxy web:8000" in caddyfile
    assert all(not str(port).startswith("8000") for port in COMPOSE["services"]["web"]["ports"])


def test_make_run_passes_port_and_host_to_serve() -> None:
    """`make run PORT=… HOST=…` serves there (read with `make -n`, nothing run)."""
    out = subprocess.run(
        ["make", "-n", "run", "PORT=9123", "HOST=0.0.0.0"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "fuqing serve --host 0.0.0.0 --port 9123" in out
