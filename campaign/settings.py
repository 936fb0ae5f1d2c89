"""One settings module, read from the environment.

Nothing set means production-safe: DEBUG off, so ``SECRET_KEY`` and ``ALLOWED_HOSTS`` are required. The quick
start (``make run``) sets ``DEBUG=1`` itself: SQLite under ``var/``, Celery jobs run in-process (eager).
Production: set ``DATABASE_URL`` (PostgreSQL), ``REDIS_URL`` (Celery broker), ``SECRET_KEY`` and
``ALLOWED_HOSTS``. No secret has a default outside DEBUG.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from csp.constants import NONCE, NONE, SELF, UNSAFE_INLINE
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("VAR_DIR", BASE_DIR / "var"))
VAR_DIR.mkdir(parents=True, exist_ok=True)


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value not in (None, "") else default


def env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


# Off unless DEBUG=1: a production that forgets to set it must not serve /media/ to anyone or show its
# settings on a 500. The quick start (make run) and the test suite (tests/settings.py) set DEBUG=1.
DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. "
            "生产环境请设置 SECRET_KEY；本机试用请运行 make run（它会设置 DEBUG=1）。"
        )
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1],testserver" if DEBUG else "")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", "")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "rest_framework.authtoken",
    "axes",
    "csp",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_htmx",
    "bootstrap",
    "campaign",
    "units",
    "tasks",
    "reports",
    "reports.dashboards",
    "notifications",
    "reports.compilations",
    "sites",
    "assessment",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "csp.middleware.CSPMiddleware",
    # One Chinese error page with the navigation also when DEBUG is on (the handlers in urls.py serve it
    # when DEBUG is off).
    "campaign.decorators.ErrorPagesMiddleware",
    # Last, as django-axes asks: it turns a locked-out login (page or API token) into the 429 answer.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "campaign.urls"
WSGI_APPLICATION = "campaign.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "campaign.context_processors.portal",
                "notifications.context_processors.inbox",
            ],
        },
    },
]

DATABASE_URL = os.environ.get("DATABASE_URL", "")
if DATABASE_URL:
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=env_int("DB_CONN_MAX_AGE", 60))}
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": VAR_DIR / "portal.sqlite3",
            # IMMEDIATE: a transaction that reads and then writes waits for the lock (up to the timeout) instead
            # of failing at once when a background build writes at the same time.
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    }

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    # Not a rule on the password: Django calls its password_changed() whenever a password is set and saved
    # (password change page, admin, changepassword), and it deletes the person's API tokens.
    {"NAME": "campaign.auth.RevokeTokensOnPasswordChange"},
]

# django-axes: after AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is
# refused (even with the right password) for AXES_COOLOFF_MINUTES, on /login/ and /api/v1/auth/token/.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_MINUTES = env_int("AXES_COOLOFF_MINUTES", 15)
AXES_COOLOFF_TIME = timedelta(minutes=AXES_COOLOFF_MINUTES)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "campaign.auth.lockout_response"
AXES_HTTP_RESPONSE_CODE = 429  # Too Many Requests, with a Chinese page or JSON
# Behind a reverse proxy every request comes from the proxy's address: name the header in which the proxy
# writes the client's address (e.g. CLIENT_IP_HEADER=HTTP_X_REAL_IP for nginx's `proxy_set_header X-Real-IP
# $remote_addr`, which overwrites whatever the client sent). Unset, the address is REMOTE_ADDR.
AXES_IPWARE_META_PRECEDENCE_ORDER = tuple(filter(None, [os.environ.get("CLIENT_IP_HEADER"), "REMOTE_ADDR"]))

# API tokens (POST /api/v1/auth/token/) are good for this many days, then the client asks for a new one.
API_TOKEN_TTL = timedelta(days=env_int("API_TOKEN_TTL_DAYS", 30))

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文")]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", VAR_DIR / "static"))
WHITENOISE_USE_FINDERS = DEBUG
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}

# An expired or missing CSRF token: the same Chinese error page, saying nothing was saved.
CSRF_FAILURE_VIEW = "campaign.decorators.csrf_failure"

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

# A working day: a session ends 8 hours after login, and (on shared office computers) when the browser closes.
SESSION_COOKIE_AGE = env_int("SESSION_HOURS", 8) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = env_bool("SESSION_EXPIRE_AT_BROWSER_CLOSE", True)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)

# HTTPS (manage.py check --deploy passes with these defaults when DEBUG is off). The site is served over TLS
# by the reverse proxy in front of gunicorn; TRUST_X_FORWARDED_PROTO=1 tells Django to believe the proxy's
# X-Forwarded-Proto (set it only behind a proxy that overwrites that header).
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
# The container health check calls gunicorn directly over plain HTTP.
SECURE_REDIRECT_EXEMPT = [r"^healthz/$"]
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 365 * 24 * 3600)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
if env_bool("TRUST_X_FORWARDED_PROTO", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Content-Security-Policy (django-csp): only our own files run. Inline <script>/<style> carry
# nonce="{{ request.csp_nonce }}"; inline event handlers are not allowed (static/js/portal.js wires
# data-autosubmit / data-confirm instead). style="" attributes stay allowed (style-src-attr): they set
# widths and colours and cannot run code. The API docs pages relax this for themselves (campaign/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [SELF],
        "script-src": [SELF, NONCE],
        "style-src": [SELF, NONCE],
        "style-src-attr": [UNSAFE_INLINE],
        "img-src": [SELF, "data:"],
        "font-src": [SELF, "data:"],
        "connect-src": [SELF],
        "object-src": [NONE],
        "base-uri": [SELF],
        "form-action": [SELF],
        "frame-ancestors": [SELF],
    },
}

# Uploads: evidence files are checked by content; the size limit is per file.
EVIDENCE_MAX_BYTES = env_int("EVIDENCE_MAX_MB", 20) * 1024 * 1024
DATA_UPLOAD_MAX_MEMORY_SIZE = 10 * 1024 * 1024
FILE_UPLOAD_MAX_MEMORY_SIZE = 5 * 1024 * 1024

# Reporting periods: due date is N days after the quarter ends unless set per period.
PERIOD_DUE_DAYS_AFTER_END = env_int("PERIOD_DUE_DAYS_AFTER_END", 10)
# Open periods close automatically this many days after their due date (the office may close earlier).
PERIOD_AUTO_CLOSE_DAYS_AFTER_DUE = env_int("PERIOD_AUTO_CLOSE_DAYS_AFTER_DUE", 20)

# Reminders (days before the due date) and retention of compiled files.
REMINDER_DAYS_BEFORE_DUE = [int(d) for d in env_list("REMINDER_DAYS_BEFORE_DUE", "7,3,1")]
RETURNED_REMINDER_AFTER_DAYS = env_int("RETURNED_REMINDER_AFTER_DAYS", 3)
COMPILATION_RETENTION_DAYS = env_int("COMPILATION_RETENTION_DAYS", 180)
COMPILATION_TIME_LIMIT = env_int("COMPILATION_TIME_LIMIT", 600)
# Quick start only (no worker): build requested documents in threads of the web process, so the request
# returns at once and the progress page is seen. `make run` turns it on; with a worker it has no effect.
COMPILATIONS_IN_BACKGROUND = env_bool("COMPILATIONS_IN_BACKGROUND", False)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Token first so that an anonymous request is told 401 with WWW-Authenticate, not a bare 403.
        "campaign.auth.ExpiringTokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # A JSON body must be an object: null, false, "" or a list is a 400, read only after the permission check.
    "DEFAULT_PARSER_CLASSES": [
        "campaign.parsers.ObjectJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_PAGINATION_CLASS": "campaign.api.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "campaign.api.exception_handler",
}

# The API's own documentation at /api/docs/ (Swagger UI) and /api/redoc/: a Chinese product's API, grouped by
# the TAGS below; every operation names its group and has a Chinese summary in its app's api module
# (tests/api/test_docs.py holds them to it). The figures in the text come from the settings that decide them.
SPECTACULAR_SETTINGS = {
    "TITLE": "民族团结进步示范市创建工作平台 API",
    "DESCRIPTION": f"""\
实施方案、单位、报告期、季度进展报告与审核、看板、汇编文件和消息的接口，供各单位和创建办的系统对接使用。
网页上能做的事，这里都能用程序完成，且规则相同：联络员只能查看和修改本单位的报告，领导只能查看，创建办审核。

## 认证
1. 用平台账号换取令牌：`POST /api/v1/auth/token/`，请求体 `{{"username": "…", "password": "…"}}`，
   返回 `{{"token": "…", "expires": "…"}}`。
2. 之后每个请求带上请求头 `Authorization: Token <令牌>`。已登录网页的浏览器也可直接调用（会话认证，写操作需
   CSRF 令牌）。
3. 令牌自签发起 **{API_TOKEN_TTL.days} 天**后过期，过期后返回 401，请按第 1 步重新获取；修改密码后，
   已签发的令牌全部失效。
4. 同一用户名在同一地址连续输错密码 {AXES_FAILURE_LIMIT} 次后锁定 {AXES_COOLOFF_MINUTES} 分钟，期间换取令牌
   返回 **429**（`code` 为 `locked_out`），即使密码正确也不例外。

## 分页
列表接口分页返回 `{{"count", "next", "previous", "results"}}`。参数 `page` 为页码（从 1 开始），`page_size`
为每页条数，默认 {REST_FRAMEWORK["PAGE_SIZE"]}，最多 1000。

## 请求体
JSON 请求体必须是一个对象（`{{…}}`）；`null`、数字、字符串或列表一律返回 400。上传佐证文件用
`multipart/form-data`。

## 并发修改
报告带有 `version`（版本号）。修改报告（`PATCH /api/v1/reports/{{id}}/`）时必须带上读取时的 `version`；
若期间已被他人修改，返回 **409**，内容不会被覆盖，请重新读取、核对后再提交。

## 错误
错误响应为 JSON：`detail` 是可直接展示给用户的中文说明；平台业务规则产生的错误还带 `code`，供程序判断，例如
`{{"detail": "请提供 version（报告当前的版本号），以免覆盖他人的修改。", "code": "version_required"}}`；
字段格式不对时为 `{{"字段名": ["说明"]}}`。常见状态码：400 内容有误，401 未登录或令牌无效/过期，
403 无权进行该操作，404 不存在或无权查看（其他单位的报告对联络员一律为 404），409 版本冲突，429 已锁定。
""",
    "VERSION": "1.0.0",
    "TAGS": [
        {"name": "认证", "description": "用用户名和密码换取 API 令牌。"},
        {"name": "方案与报告期", "description": "创建活动、实施阶段和季度报告期（只读）。"},
        {"name": "单位", "description": "市直部门、县市区和园区等责任单位名录（只读）。"},
        {
            "name": "任务",
            "description": "实施方案的工程/活动、任务及其牵头和配合单位、量化目标与指标（只读）。",
        },
        {
            "name": "进展报告",
            "description": "季度进展报告的填写、报送、退回、通过，佐证材料、操作记录，以及已截止报告期的补报开放。",
        },
        {"name": "看板", "description": "报送完成情况和量化目标进度（仅创建办和领导）。"},
        {
            "name": "汇编文件",
            "description": "申请生成季度汇总、单位报告、任务报告、年度总结和台账（PDF/Excel/Word）并下载。",
        },
        {"name": "通知", "description": "当前用户的消息：列表、标为已读。"},
        {
            "name": "示范点",
            "description": "示范点台账：按单位、县区、类别、级别、状态和日期查询，本单位联络员添加和修改。",
        },
        {
            "name": "测评与申报",
            "description": "测评指标体系、指标与任务的对应和创建办的自评得分（只读，仅创建办和领导）。",
        },
    ],
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # The token scheme as drf-spectacular writes it, described in Chinese.
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "tokenAuth": {
                "type": "apiKey",
                "in": "header",
                "name": "Authorization",
                "description": "令牌认证：请求头 `Authorization: Token <令牌>`，令牌由 `POST /api/v1/auth/token/` 获取。",
            }
        }
    },
    # The schema and the docs pages are for signed-in people (a session or a token), not the public.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
}

# Celery: with REDIS_URL set, jobs go to a worker through Redis; without, they run in-process (eager)
# so the quick start behaves the same with nothing else running.
REDIS_URL = os.environ.get("REDIS_URL", "")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = COMPILATION_TIME_LIMIT + 60
CELERY_TASK_SOFT_TIME_LIMIT = COMPILATION_TIME_LIMIT
# Redis hides a delivered message until it is acked (acks_late). If a whole worker dies mid-job the message
# comes back after this long (the job's hard limit plus a minute) and the next worker restarts it; the reaper
# (reports.compilations.build.stuck_after) waits for that redelivery and only fails rows whose message did not
# come back.
CELERY_BROKER_TRANSPORT_OPTIONS = {"visibility_timeout": CELERY_TASK_TIME_LIMIT + 60}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Each app keeps its beat entries in <app>/schedule.py (plain data, safe to import from settings).
from campaign.schedule import BEAT_SCHEDULE as _campaign_beat  # noqa: E402
from notifications.schedule import BEAT_SCHEDULE as _notifications_beat  # noqa: E402
from reports.compilations.schedule import BEAT_SCHEDULE as _compilations_beat  # noqa: E402

CELERY_BEAT_SCHEDULE = {**_campaign_beat, **_compilations_beat, **_notifications_beat}

if REDIS_URL:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}

EMAIL_BACKEND = os.environ.get("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
EMAIL_HOST = os.environ.get("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = os.environ.get("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
EMAIL_FILE_PATH = os.environ.get("EMAIL_FILE_PATH", str(VAR_DIR / "mail"))
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "创建工作办公室 <noreply@localhost>")
SITE_URL = os.environ.get("SITE_URL", "http://localhost:8000")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {"weasyprint": {"level": "ERROR"}, "fontTools": {"level": "ERROR"}},
}

PORTAL_NAME = "民族团结进步示范市创建工作平台"

# Extra font folders for the compiled documents (e.g. a licensed 仿宋_GB2312 / 方正小标宋 the deployment holds);
# the faces found there are preferred over the free ones Debian provides. `manage.py check` names the faces in use.
FONT_DIRS = env_list("FONT_DIRS", "")

# Covering indexes (Index.include) speed the dashboards up on PostgreSQL; SQLite builds them without the
# extra columns, which is fine for the quick start.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
