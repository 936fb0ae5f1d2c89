"""API endpoints of this part of the portal (filled in by its issue)."""

api_urlpatterns: list = []


def register(router) -> None:
    """Register this module's viewsets on the portal's one router."""
