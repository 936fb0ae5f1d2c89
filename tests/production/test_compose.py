"""The production shape, run for real without Docker: docker-compose.yml is read, and its web, worker and beat
services are started natively with their own commands and their own environment (``${VAR}`` filled from a
test .env), against the machine's PostgreSQL and Redis standing in for the ``postgres`` and ``redis``
services. Through gunicorn, over HTTP with the header the TLS proxy sets, a person logs in, a liaison files a
report, the office approves it, a PDF is compiled by the worker and downloaded. A compose command that does
not start, or a health check that fails, fails the test."""

from __future__ import annotations

import os
import re
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlparse

import psycopg2
import pytest
import redis
import requests
import yaml

pytestmark = pytest.mark.production

ROOT = Path(__file__).resolve().parents[2]
SITE = "portal.test"
PASSWORD = "Prod-test-pass-2024"


# ------------------------------------------------------------------------------ reading the compose file


def interpolate(value: str, dotenv: dict[str, str]) -> str:
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error} and $$."""

    def one(match: re.Match) -> str:
        name, op, arg = match.group(1), match.group(2) or "", match.group(3) or ""
        present = name in dotenv
        value = dotenv.get(name, "")
        if op in (":?", "?") and (not present or (op == ":?" and value == "")):
            raise AssertionError(f"compose needs {name}: {arg}")
        if op == ":-" and value == "" or op == "-" and not present:
            return arg
        return value

    escaped = value.replace("$$", "\0")
    result = re.sub(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?])([^}]*))?\}", one, escaped)
    result = re.sub(r"\$([A-Za-z_][A-Za-z0-9_]*)", lambda m: dotenv.get(m.group(1), ""), result)
    return result.replace("\0", "$")


def dockerfile_env() -> dict[str, str]:
    """The image's ENV lines (VAR_DIR, MEDIA_ROOT, STATIC_ROOT …)."""
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    env = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for pair in shlex.split(line[4:]):
                key, _, value = pair.partition("=")
                env[key] = value
    return env


def dockerfile_build_steps(pattern: str) -> list[str]:
    text = (ROOT / "Dockerfile").read_text().replace("\\\n", " ")
    return [line[4:] for line in text.splitlines() if line.startswith("RUN ") and pattern in line]


# ------------------------------------------------------------------------------------- the environment


def free_port() -> int:
    with closing(socket.socket()) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def recreate_database(url: str) -> None:
    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = psycopg2.connect(
        dbname="postgres",
        user=parts.username or "postgres",
        password=parts.password,
        host=parts.hostname,
        port=parts.port or 5432,
    )
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        cursor.execute(f'CREATE DATABASE "{name}"')
    admin.close()


class Shape:
    """The compose services as native processes; /app (the image's WORKDIR and volumes) lives in a tmp dir."""

    def __init__(self, tmp: Path):
        self.compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
        self.database_url = os.environ.get(
            "PRODUCTION_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/hD_prod"
        )
        self.redis_url = os.environ.get("PRODUCTION_REDIS_URL", "redis://127.0.0.1:6379/14")
        self.app = tmp / "app"
        self.logs = tmp / "logs"
        self.logs.mkdir(parents=True)
        self.port = free_port()
        self.dotenv = {
            "SECRET_KEY": secrets.token_urlsafe(50),
            "POSTGRES_PASSWORD": "trust-auth-on-this-machine",
            "ALLOWED_HOSTS": SITE,
            "SITE_URL": f"https://{SITE}",
        }
        self.procs: dict[str, subprocess.Popen] = {}

    def native(self, value: str) -> str:
        """Paths in the image and the container's port, as they are on this machine."""
        value = value.replace("/app/", f"{self.app}/")
        return value.replace("0.0.0.0:8000", f"127.0.0.1:{self.port}").replace(
            "127.0.0.1:8000", f"127.0.0.1:{self.port}"
        )

    def env(self, service: str) -> dict[str, str]:
        spec = self.compose["services"][service]
        env = {
            "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}",
            "HOME": os.environ.get("HOME", "/tmp"),
            "LANG": "C.UTF-8",
            "HOSTNAME": socket.gethostname(),
        }
        env |= {key: self.native(value) for key, value in dockerfile_env().items()}
        compose_env = {
            key: interpolate(str(value), self.dotenv) for key, value in spec["environment"].items()
        }
        # The compose network's host names are this machine's services.
        assert urlparse(compose_env["DATABASE_URL"]).hostname == "postgres", compose_env["DATABASE_URL"]
        assert urlparse(compose_env["REDIS_URL"]).hostname == "redis", compose_env["REDIS_URL"]
        compose_env["DATABASE_URL"] = self.database_url
        compose_env["REDIS_URL"] = self.redis_url
        return env | compose_env

    def command(self, service: str) -> list[str]:
        command = self.compose["services"][service]["command"]
        args = shlex.split(command) if isinstance(command, str) else list(command)
        return [self.native(interpolate(arg, self.dotenv)) for arg in args]

    def run(self, service: str, args: list[str] | str, timeout: float = 300) -> subprocess.CompletedProcess:
        """``docker compose exec/run SERVICE …``: a one-off command in the service's environment."""
        return subprocess.run(
            args,
            shell=isinstance(args, str),
            cwd=ROOT,
            env=self.env(service),
            capture_output=True,
            text=True,
            timeout=timeout,
        )

    def start(self, service: str) -> subprocess.Popen:
        log = (self.logs / f"{service}.log").open("w")
        proc = subprocess.Popen(
            self.command(service),
            cwd=ROOT,
            env=self.env(service),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: sh, gunicorn and its workers stop together
        )
        self.procs[service] = proc
        return proc

    def log(self, service: str) -> str:
        return (self.logs / f"{service}.log").read_text(errors="replace")[-4000:]

    def alive(self, service: str) -> None:
        proc = self.procs[service]
        assert proc.poll() is None, (
            f"compose service {service} exited ({proc.returncode}):\n{self.log(service)}"
        )

    def healthcheck(self, service: str) -> subprocess.CompletedProcess:
        test = self.compose["services"][service]["healthcheck"]["test"]
        kind, *rest = test
        if kind == "CMD-SHELL":
            return self.run(service, ["sh", "-c", interpolate(rest[0], self.dotenv)], timeout=60)
        assert kind == "CMD", test
        return self.run(service, [self.native(interpolate(a, self.dotenv)) for a in rest], timeout=60)

    def wait_healthy(self, service: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while True:
            self.alive(service)
            check = self.healthcheck(service)
            if check.returncode == 0:
                return
            assert time.monotonic() < deadline, (
                f"{service} never healthy: {check.stderr}\n{self.log(service)}"
            )
            time.sleep(1)

    def stop(self) -> dict[str, int | None]:
        codes = {}
        for service, proc in reversed(self.procs.items()):
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
            try:
                codes[service] = proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                codes[service] = proc.wait(timeout=10)
        return codes


class Browser:
    """Requests as they arrive at gunicorn from the TLS proxy: Host and X-Forwarded-Proto: https. Cookies
    are kept by hand, since they are (rightly) Secure and this hop is plain HTTP."""

    def __init__(self, port: int):
        self.base = f"http://127.0.0.1:{port}"
        self.cookies: dict[str, str] = {}
        self.set_cookie_headers: list[str] = []

    def request(self, method: str, path: str, *, proxied: bool = True, **kwargs) -> requests.Response:
        headers = {"Host": SITE, **kwargs.pop("headers", {})}
        if proxied:
            headers["X-Forwarded-Proto"] = "https"
        if self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        response = requests.request(
            method, self.base + path, headers=headers, allow_redirects=False, timeout=60, **kwargs
        )
        for header in response.raw.headers.getlist("Set-Cookie"):
            self.set_cookie_headers.append(header)
            for name, morsel in SimpleCookie(header).items():
                self.cookies[name] = morsel.value
        return response


def api(browser: Browser, method: str, path: str, token: str, **kwargs) -> requests.Response:
    return browser.request(method, path, headers={"Authorization": f"Token {token}"}, **kwargs)


# ------------------------------------------------------------------------------------------------ test


def test_compose_services_start_natively_and_serve_login_report_approval_and_a_compiled_pdf(tmp_path):
    shape = Shape(tmp_path)
    assert set(shape.compose["services"]) >= {"postgres", "redis", "web", "worker", "beat", "proxy"}
    recreate_database(shape.database_url)
    redis.Redis.from_url(shape.redis_url).flushdb()
    try:
        # The image's build step (static files with their manifest), then the services' own commands.
        for step in dockerfile_build_steps("collectstatic"):
            built = shape.run("web", shape.native(step))
            assert built.returncode == 0, built.stderr[-3000:]
        shape.start("web")
        shape.wait_healthy("web", timeout=240)  # migrate, then gunicorn answering GET /healthz/ "ok"
        shape.start("worker")
        shape.start("beat")
        shape.wait_healthy("worker", timeout=90)  # celery inspect ping through Redis

        # `docker compose exec web python manage.py …`: the plan and the accounts (demo ones, for the test).
        seeded = shape.run(
            "web", ["python", "manage.py", "setup_demo", "--force", "--no-reports", "--password", PASSWORD]
        )
        assert seeded.returncode == 0, seeded.stderr[-3000:]
        check = shape.run("web", ["python", "manage.py", "check", "--deploy", "--fail-level", "WARNING"])
        assert check.returncode == 0, check.stdout + check.stderr

        browser = Browser(shape.port)
        # Without the proxy's header the site insists on HTTPS; the health check does not.
        plain = browser.request("GET", "/login/", proxied=False)
        assert plain.status_code == 301 and plain.headers["Location"] == f"https://{SITE}/login/"
        assert browser.request("GET", "/healthz/", proxied=False).text == "ok"

        # A person logs in through the page (CSRF, Secure session cookie).
        form = browser.request("GET", "/login/")
        assert form.status_code == 200, form.text[:500]
        assert "Strict-Transport-Security" in form.headers
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.text).group(1)
        login = browser.request(
            "POST",
            "/login/",
            data={"csrfmiddlewaretoken": token, "username": "office", "password": PASSWORD},
            headers={"Origin": f"https://{SITE}", "Referer": f"https://{SITE}/login/"},
        )
        assert login.status_code == 302, login.text[:1000]
        session_cookie = next(h for h in browser.set_cookie_headers if h.startswith("sessionid="))
        assert "Secure" in session_cookie and "HttpOnly" in session_cookie
        home = browser.request("GET", login.headers["Location"])
        assert home.status_code == 200 and "民族团结进步示范市创建工作平台" in home.text

        # A liaison files and submits a report through the API, the unit's leader signs it off, and the office
        # approves it (token clients, no session cookies).
        browser = Browser(shape.port)

        def token_for(username: str) -> str:
            answer = browser.request(
                "POST", "/api/v1/auth/token/", json={"username": username, "password": PASSWORD}
            )
            assert answer.status_code == 200, answer.text
            return answer.json()["token"]

        liaison, office = token_for("xuanchuanbu"), token_for("office")
        unit = api(browser, "GET", "/api/v1/units/?code=xuanchuanbu", liaison).json()["results"][0]
        period = api(browser, "GET", "/api/v1/periods/?state=open", liaison).json()["results"][0]
        task = api(browser, "GET", "/api/v1/tasks/?number=3", liaison).json()["results"][0]
        text = "生产形态测试：组织开展民族团结进步宣传月，覆盖全市机关干部1200人。"
        created = api(
            browser,
            "POST",
            "/api/v1/reports/",
            liaison,
            json={"period": period["id"], "unit": unit["id"], "task": task["id"], "progress": text},
        )
        assert created.status_code == 201, created.text
        report = created.json()
        submitted = api(
            browser,
            "POST",
            f"/api/v1/reports/{report['id']}/submit/",
            liaison,
            json={"version": report["version"]},
        )
        assert submitted.status_code == 200, shape.log("web")
        # 市委宣传部 sends its reports to its 分管领导 first (the demo turns that on): the leader signs off.
        assert submitted.json()["state"] == "awaiting_signoff", submitted.text
        signed = api(
            browser, "POST", f"/api/v1/reports/{report['id']}/signoff/", token_for("xuanchuanbu-leader")
        )
        assert signed.status_code == 200 and signed.json()["state"] == "submitted", signed.text
        approved = api(
            browser, "POST", f"/api/v1/reports/{report['id']}/approve/", office, json={"comment": "同意"}
        )
        assert approved.status_code == 200 and approved.json()["state"] == "approved", approved.text

        # The liaison compiles the unit's PDF: the worker builds it, and it downloads.
        asked = api(
            browser,
            "POST",
            "/api/v1/compilations/",
            liaison,
            json={"kind": "unit", "format": "pdf", "unit": unit["id"], "period": period["id"]},
        )
        assert asked.status_code == 201, asked.text
        compilation = asked.json()
        deadline = time.monotonic() + 240
        while compilation["state"] not in ("done", "failed"):
            assert time.monotonic() < deadline, (compilation, shape.log("worker"))
            shape.alive("worker")
            time.sleep(1)
            compilation = api(browser, "GET", f"/api/v1/compilations/{compilation['id']}/", liaison).json()
        assert compilation["state"] == "done", (compilation["error"], shape.log("worker"))
        assert compilation["download_url"].startswith(f"https://{SITE}/")
        download = api(browser, "GET", urlparse(compilation["download_url"]).path, liaison)
        assert download.status_code == 200 and download.content.startswith(b"%PDF-")
        pdf = tmp_path / "unit.pdf"
        pdf.write_bytes(download.content)
        words = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
        assert "市委宣传部" in words and "覆盖全市机关干部1200人" in words.replace("\n", "")
        assert "compilation_build" in shape.log("worker") and "beat: Starting" in shape.log("beat")
        for service in ("web", "worker", "beat"):
            shape.alive(service)
    finally:
        codes = shape.stop()
    # They stop cleanly when told to (docker compose stop sends SIGTERM).
    assert codes == {"beat": 0, "worker": 0, "web": 0}, (codes, shape.log("web"), shape.log("worker"))
