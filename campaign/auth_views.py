"""The API token endpoint, POST /api/v1/auth/token/ (apart from campaign.auth and campaign.api, which DRF
imports while it loads its own views, so they must not import views themselves)."""

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.authtoken.serializers import AuthTokenSerializer
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.response import Response

from .auth import token_expires_at, token_is_expired


class ObtainTokenView(ObtainAuthToken):
    """``POST username, password`` → ``{"token": …, "expires": …}``; a locked-out pair gets 429."""

    def get_serializer_context(self):
        # django-axes reads the client's address from, and flags a lockout on, the Django request; the
        # middleware only sees flags set on that object, not on DRF's wrapper.
        return {**super().get_serializer_context(), "request": self.request._request}

    @extend_schema(
        tags=["认证"],
        summary="获取 API 令牌",
        description=(
            "用平台的用户名和密码换取令牌，之后在请求头中带上 `Authorization: Token <令牌>`。"
            "令牌在 `expires` 时刻过期（签发后 API_TOKEN_TTL 天），过期后再次调用本接口即得到新令牌；"
            "未过期时返回原令牌。连续输错密码会被暂时锁定（429）。"
        ),
        request=AuthTokenSerializer,
        responses={
            200: inline_serializer(
                "AuthToken", {"token": serializers.CharField(), "expires": serializers.DateTimeField()}
            ),
            400: OpenApiResponse(description="用户名或密码不正确"),
            429: OpenApiResponse(description="登录失败次数过多，暂时锁定"),
        },
    )
    def post(self, request, *args, **kwargs):
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = serializer.validated_data["user"]
        token, _created = Token.objects.get_or_create(user=user)
        if token_is_expired(token):
            token.delete()
            token = Token.objects.create(user=user)
        return Response({"token": token.key, "expires": token_expires_at(token)})


obtain_token = ObtainTokenView.as_view()
