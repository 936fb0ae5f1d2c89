from django.conf import settings

from units.access import get_access

from .nav import nav_items


def portal(request):
    access = get_access(getattr(request, "user", None))
    return {
        "portal_name": settings.PORTAL_NAME,
        "access": access,
        "nav_items": nav_items(access, request.path) if access.is_authenticated else [],
        "user_display_name": _display(getattr(request, "user", None)),
    }


def _display(user):
    from units.models import display_name

    return display_name(user) if user is not None and user.is_authenticated else ""
