"""Issue 12, signing in and safe settings: login lockout (django-axes), DEBUG off unless asked, API tokens that
expire and die with a password change, the password change page, 8-hour sessions, `check --deploy` clean,
a Content-Security-Policy (django-csp), the API docs for signed-in people only, /healthz/."""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.authtoken.models import Token

from tests.conftest import PASSWORD

ROOT = Path(settings.BASE_DIR)
LOCKED_OUT = f"登录失败次数过多，请{settings.AXES_COOLOFF_MINUTES}分钟后再试或联系创建办"


def production_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    """The environment of a production process: nothing of the test run's (no DEBUG), a real SECRET_KEY."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": os.environ.get("HOME", str(tmp_path)),
        "DJANGO_SETTINGS_MODULE": "campaign.settings",
        "VAR_DIR": str(tmp_path / "var"),
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "portal.example.gov.cn",
    }
    return env | extra


def run(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
    )


# ------------------------------------------------------------------------------------ 2. login lockout


def wrong_logins(client, username: str, times: int) -> None:
    """``times`` wrong passwords: the form says so each time until the last allowed failure locks the pair."""
    for attempt in range(1, times + 1):
        response = client.post("/login/", {"username": username, "password": "wrong-password"})
        locked = attempt >= settings.AXES_FAILURE_LIMIT
        assert response.status_code == (429 if locked else 200)
        assert ("用户名或密码不正确" in response.content.decode()) is not locked


def test_login_page_locks_out_after_five_wrong_passwords_even_with_the_right_one(client, liaison_a):
    wrong_logins(client, "liaison_a", settings.AXES_FAILURE_LIMIT)

    response = client.post("/login/", {"username": "liaison_a", "password": PASSWORD})

    assert response.status_code == 429
    assert LOCKED_OUT in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_four_wrong_passwords_then_the_right_one_logs_in(client, liaison_a):
    wrong_logins(client, "liaison_a", settings.AXES_FAILURE_LIMIT - 1)

    response = client.post("/login/", {"username": "liaison_a", "password": PASSWORD})

    assert response.status_code == 302
    assert client.session["_auth_user_id"] == str(liaison_a.pk)


def test_lockout_is_per_username_and_address(client, liaison_a, liaison_b):
    wrong_logins(client, "liaison_a", settings.AXES_FAILURE_LIMIT)

    other_person = client.post("/login/", {"username": "liaison_b", "password": PASSWORD})
    other_address = client.post(
        "/login/", {"username": "liaison_a", "password": PASSWORD}, REMOTE_ADDR="10.1.2.3"
    )

    assert other_person.status_code == 302
    assert other_address.status_code == 302


def test_token_endpoint_locks_out_after_five_wrong_passwords(api_client, liaison_a):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = api_client.post(
            "/api/v1/auth/token/", {"username": "liaison_a", "password": "nope"}, format="json"
        )
        assert response.status_code in (400, 429)  # the fifth failure already answers 429

    response = api_client.post(
        "/api/v1/auth/token/", {"username": "liaison_a", "password": PASSWORD}, format="json"
    )

    assert response.status_code == 429
    assert response.json() == {"detail": LOCKED_OUT + "。", "code": "locked_out"}
    assert not Token.objects.filter(user=liaison_a).exists()


def test_wrong_passwords_on_the_api_also_lock_the_login_page(api_client, client, liaison_a):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        api_client.post("/api/v1/auth/token/", {"username": "liaison_a", "password": "nope"}, format="json")

    response = client.post("/login/", {"username": "liaison_a", "password": PASSWORD})

    assert response.status_code == 429


# ------------------------------------------------------------------------------ 4. DEBUG off unless set


def test_debug_is_off_when_not_set_and_then_a_secret_key_is_required(tmp_path):
    probe = "from django.conf import settings; print(settings.DEBUG)"
    env = production_env(tmp_path)

    with_key = run(["-c", probe], env)
    without_key = run(["-c", probe], {k: v for k, v in env.items() if k != "SECRET_KEY"})

    assert with_key.stdout.strip() == "False", with_key.stderr
    assert without_key.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in without_key.stderr


def test_debug_is_on_only_when_asked_for(tmp_path):
    probe = "from django.conf import settings; print(settings.DEBUG)"

    result = run(["-c", probe], production_env(tmp_path, DEBUG="1"))

    assert result.stdout.strip() == "True", result.stderr


# A production process (nothing but SECRET_KEY and ALLOWED_HOSTS set) whose database is down: /healthz/ says
# 503 over plain HTTP, every other page is redirected to HTTPS, /media/ is not served.
PRODUCTION_PROBE = """
import json, django
django.setup()
from django.conf import settings
# The image runs collectstatic at build time (the production-shape test does too); this probe has no collected
# files, so the pages it renders (the 404 page names the stylesheets) read them by their plain names.
settings.STORAGES = {**settings.STORAGES, "staticfiles": {
    "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
from django.test import Client
client = Client(HTTP_HOST="portal.example.gov.cn")
health = client.get("/healthz/")
login = client.get("/login/")
media = client.get("/media/evidence/secret.pdf", secure=True)
print(json.dumps({"health": [health.status_code, health.content.decode()], "login": [login.status_code,
    login.get("Location")], "media": media.status_code, "hsts": media.get("Strict-Transport-Security")}))
"""


def test_production_process_with_its_database_down(tmp_path):
    media = tmp_path / "media" / "evidence"
    media.mkdir(parents=True)
    (media / "secret.pdf").write_bytes(b"%PDF-1.4 secret")
    env = production_env(
        tmp_path, DATABASE_URL="postgres://nobody@127.0.0.1:1/nothing", MEDIA_ROOT=str(tmp_path / "media")
    )

    result = run(["-c", PRODUCTION_PROBE], env)
    answers = json.loads(result.stdout.strip().splitlines()[-1])

    assert answers["health"] == [503, "database unavailable"], result.stderr
    assert answers["login"] == [301, "https://portal.example.gov.cn/login/"]
    assert answers["media"] == 404
    assert answers["hsts"] == "max-age=31536000; includeSubDomains; preload"


# -------------------------------------------------------------------------------------------- healthz


def test_healthz_answers_ok_without_login(client, db):
    response = client.get("/healthz/")

    assert response.status_code == 200
    assert response.content == b"ok"


# --------------------------------------------------------------------------------- 3. tokens that expire


def get_token(api_client) -> str:
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "liaison_a", "password": PASSWORD}, format="json"
    )
    assert response.status_code == 200
    return response.json()["token"]


def test_token_older_than_its_lifetime_is_refused_with_401(api_client, liaison_a):
    key = get_token(api_client)
    Token.objects.filter(key=key).update(
        created=timezone.now() - settings.API_TOKEN_TTL - timedelta(minutes=1)
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    response = api_client.get("/api/v1/tasks/")

    assert response.status_code == 401
    assert (
        response.json()["detail"] == "认证令牌已过期，请用用户名和密码重新获取（POST /api/v1/auth/token/）。"
    )
    assert response["WWW-Authenticate"] == "Token"


def test_a_token_inside_its_lifetime_works_and_says_when_it_expires(api_client, liaison_a):
    response = api_client.post(
        "/api/v1/auth/token/", {"username": "liaison_a", "password": PASSWORD}, format="json"
    )
    token = Token.objects.get(key=response.json()["token"])
    Token.objects.filter(pk=token.pk).update(
        created=timezone.now() - settings.API_TOKEN_TTL + timedelta(hours=1)
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")

    assert api_client.get("/api/v1/tasks/").status_code == 200
    assert response.json()["expires"] == (token.created + settings.API_TOKEN_TTL).isoformat().replace(
        "+00:00", "Z"
    )


def test_asking_again_after_expiry_gives_a_new_token(api_client, liaison_a):
    old = get_token(api_client)
    Token.objects.filter(key=old).update(created=timezone.now() - settings.API_TOKEN_TTL - timedelta(days=1))

    new = get_token(api_client)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {new}")

    assert new != old
    assert api_client.get("/api/v1/tasks/").status_code == 200


def test_changing_the_password_in_code_revokes_tokens(api_client, liaison_a):
    key = get_token(api_client)

    liaison_a.set_password("a-new-long-password-2026")
    liaison_a.save()
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert api_client.get("/api/v1/tasks/").status_code == 401
    assert not Token.objects.filter(user=liaison_a).exists()


# ------------------------------------------------------------------------------- 4. password change page


def test_base_menu_links_to_the_password_change_page(as_liaison_a, open_period):
    page = as_liaison_a.get("/").content.decode()

    assert 'href="/password/"' in page
    assert "修改密码" in page


def test_password_change_keeps_the_session_and_revokes_api_tokens(client, api_client, liaison_a, open_period):
    key = get_token(api_client)
    client.post("/login/", {"username": "liaison_a", "password": PASSWORD})
    form = client.get("/password/")

    response = client.post(
        "/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "民族团结-2026-new",
            "new_password2": "民族团结-2026-new",
        },
    )
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")

    assert form.status_code == 200
    assert "当前密码" in form.content.decode()
    assert "API 令牌将全部失效" in form.content.decode()
    assert response.status_code == 302
    assert response["Location"] == "/password/done/"
    assert "密码已修改" in client.get("/password/done/").content.decode()
    assert client.get("/").status_code == 200  # still signed in
    assert api_client.get("/api/v1/tasks/").status_code == 401
    liaison_a.refresh_from_db()
    assert liaison_a.check_password("民族团结-2026-new")


def test_password_change_with_a_wrong_current_password_says_so_in_chinese(as_liaison_a):
    response = as_liaison_a.post(
        "/password/",
        {"old_password": "nope", "new_password1": "x-2026-abcdef", "new_password2": "x-2026-abcdef"},
    )

    assert response.status_code == 200
    assert "旧密码不正确" in response.content.decode()


def test_password_change_needs_login(client, db):
    response = client.get("/password/")

    assert response.status_code == 302
    assert response["Location"].startswith("/login/")


# ------------------------------------------------------------------------------------------- 5. sessions


def test_a_session_lasts_eight_hours_and_ends_with_the_browser(client, liaison_a):
    response = client.post("/login/", {"username": "liaison_a", "password": PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]

    assert client.session.get_expiry_age() == 8 * 3600
    assert cookie["max-age"] == ""  # a browser-session cookie
    assert client.session.get_expire_at_browser_close()


# ------------------------------------------------------------------------------------ off-site next


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/", "javascript:alert(1)"])
def test_login_does_not_follow_an_off_site_next(client, liaison_a, target):
    response = client.post(f"/login/?next={target}", {"username": "liaison_a", "password": PASSWORD})

    assert response.status_code == 302
    assert response["Location"] == "/"


# ---------------------------------------------------------------------------------- 6. check --deploy


# ``manage.py migrate`` then ``manage.py check --deploy``, in one process (a production process starts in
# ~3 s; the two commands are what manage.py runs, through the same call_command).
MIGRATE_THEN_CHECK = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", interactive=False, verbosity=0)
print("MIGRATED", flush=True)
call_command("check", deploy=True)
"""


def test_check_deploy_with_production_settings_has_no_warning(tmp_path):
    env = production_env(tmp_path)

    result = run(["-c", MIGRATE_THEN_CHECK], env)

    assert "MIGRATED" in result.stdout, result.stderr  # every migration applies under production settings
    assert result.returncode == 0, result.stderr
    assert "WARNINGS" not in result.stderr + result.stdout
    assert not re.search(r"\bW0\d\d\b", result.stderr + result.stdout)
    # Only notices may remain (INFOS, e.g. compilations.I001 naming the document fonts in use).
    assert "ERRORS" not in result.stderr + result.stdout


def test_proxy_header_is_trusted_only_when_asked(tmp_path):
    probe = "from django.conf import settings; print(getattr(settings, 'SECURE_PROXY_SSL_HEADER', None))"

    plain = run(["-c", probe], production_env(tmp_path))
    proxied = run(["-c", probe], production_env(tmp_path, TRUST_X_FORWARDED_PROTO="1"))

    assert plain.stdout.strip() == "None", plain.stderr
    assert proxied.stdout.strip() == "('HTTP_X_FORWARDED_PROTO', 'https')", proxied.stderr


# ------------------------------------------------------------------------------------------------ 7. CSP


def csp(response) -> dict[str, list[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: part.split()[1:] for part in header.split(";") if part.strip()}


def test_pages_carry_a_content_security_policy_with_this_pages_nonce(as_office, open_period):
    response = as_office.get("/notifications/")  # a page with an inline <style>
    policy = csp(response)
    page = response.content.decode()
    nonce = re.search(r"<style nonce=\"([^\"]+)\">", page).group(1)

    assert policy["default-src"] == ["'self'"]
    assert policy["script-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["style-src"] == ["'self'", f"'nonce-{nonce}'"]
    assert policy["img-src"] == ["'self'", "data:"]
    assert policy["frame-ancestors"] == ["'self'"]
    assert f'"inlineStyleNonce": "{nonce}"' in page  # htmx's indicator <style> gets the same nonce


def test_login_page_has_the_policy(client, db):
    response = client.get("/login/")

    assert "default-src 'self'" in response["Content-Security-Policy"]


TEMPLATES = Path(settings.BASE_DIR) / "templates"
# Documents rendered by WeasyPrint, never served to a browser.
# Documents WeasyPrint renders (no browser, no CSP) and e-mails.
NOT_PAGES = (
    "compilations/pdf/",
    "notifications/bulletin_pdf.html",
    "sites/directory_pdf.html",
    "emails/",
    # the 申报 dossier's PDF layout (WeasyPrint, no browser, no CSP); its page is assessment/dossier/page.html
    "assessment/dossier/base.html",
    "assessment/dossier/front.html",
    "assessment/dossier/part.html",
)


def page_templates() -> list[Path]:
    return [
        path
        for path in sorted(TEMPLATES.rglob("*.html"))
        if not str(path.relative_to(TEMPLATES)).startswith(NOT_PAGES)
    ]


def test_no_template_has_an_inline_event_handler():
    handlers = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in page_templates()
        for match in re.finditer(r"\son[a-z]+\s*=", path.read_text(encoding="utf-8"))
    ]

    assert handlers == []


def test_every_inline_script_and_style_in_a_page_carries_the_nonce():
    tags = re.compile(r"<(script|style)\b([^>]*)>", re.IGNORECASE)
    missing = [
        f"{path.relative_to(TEMPLATES)}: {match.group(0)}"
        for path in page_templates()
        for match in tags.finditer(path.read_text(encoding="utf-8"))
        if "src=" not in match.group(2) and "request.csp_nonce" not in match.group(2)
    ]

    assert missing == []


# --------------------------------------------------------------------------- 8. API docs for signed-in


@pytest.mark.parametrize("path", ["/api/schema/", "/api/docs/", "/api/redoc/"])
def test_api_schema_and_docs_are_not_public(client, db, path):
    response = client.get(path)

    assert response.status_code in (401, 302)
    if response.status_code == 302:
        assert response["Location"] == f"/login/?next={path}"


def test_anonymous_schema_request_is_401(api_client, db):
    assert api_client.get("/api/schema/").status_code == 401


def test_token_holder_reads_the_schema(api_client, liaison_a):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {get_token(api_client)}")

    response = api_client.get("/api/schema/")

    assert response.status_code == 200
    assert "/api/v1/tasks/" in response.content.decode()


def test_swagger_ui_works_for_a_signed_in_person_under_the_policy(as_liaison_a):
    page = as_liaison_a.get("/api/docs/")
    script = as_liaison_a.get("/api/docs/?script=")

    assert page.status_code == 200
    assert "<script>" not in page.content.decode()  # the start-up script is a file, allowed by script-src
    assert 'src="/api/docs/?script="' in page.content.decode()
    assert "/static/drf_spectacular_sidecar/" in page.content.decode()
    assert csp(page)["script-src"] == ["'self'"]
    assert "'unsafe-inline'" in csp(page)["style-src"]
    assert script.status_code == 200
    assert "SwaggerUIBundle" in script.content.decode()
    assert "/api/schema/" in script.content.decode()
