from django.conf import settings

from units.access import get_access


def portal(request):
    return {"portal_name": settings.PORTAL_NAME, "access": get_access(getattr(request, "user", None))}
