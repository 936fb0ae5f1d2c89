"""Signing in: API tokens that expire and die with a password change, and the lockout answer (django-axes).

- ``ExpiringTokenAuthentication``: DRF's token authentication, refusing a token older than
  ``settings.API_TOKEN_TTL`` (401, the client asks ``POST /api/v1/auth/token/`` for a new one).
  The token endpoint is ``campaign.auth_views.ObtainTokenView`` (this module is imported by DRF's settings, so it
  imports no views).
- ``RevokeTokensOnPasswordChange``: Django calls ``password_changed()`` on every configured password validator
  when a password is set and saved; this one deletes the person's tokens.
- ``lockout_response``: django-axes' ``AXES_LOCKOUT_CALLABLE``, the Chinese page or JSON with status 429.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication
from rest_framework.authtoken.models import Token

TOKEN_EXPIRED = "认证令牌已过期，请用用户名和密码重新获取（POST /api/v1/auth/token/）。"


def lockout_message() -> str:
    return f"登录失败次数过多，请{settings.AXES_COOLOFF_MINUTES}分钟后再试或联系创建办。"


def token_expires_at(token: Token):
    return token.created + settings.API_TOKEN_TTL


def token_is_expired(token: Token) -> bool:
    return token_expires_at(token) <= timezone.now()


class ExpiringTokenAuthentication(TokenAuthentication):
    def authenticate_credentials(self, key):
        user, token = super().authenticate_credentials(key)
        if token_is_expired(token):
            token.delete()
            raise exceptions.AuthenticationFailed(TOKEN_EXPIRED, code="token_expired")
        return user, token


class RevokeTokensOnPasswordChange:
    """Not a rule on passwords: the hook Django offers when a password changes (see settings)."""

    def validate(self, password, user=None) -> None:
        return None

    def password_changed(self, password, user=None) -> None:
        if user is not None and user.pk is not None:
            Token.objects.filter(user=user).delete()

    def get_help_text(self) -> str:
        return "修改密码后，您已获取的 API 令牌将全部失效，需要重新获取。"


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None = None, credentials: dict | None = None
) -> HttpResponse:
    message = lockout_message()
    status = settings.AXES_HTTP_RESPONSE_CODE
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=status)
    return render(request, "registration/locked_out.html", {"message": message}, status=status)
