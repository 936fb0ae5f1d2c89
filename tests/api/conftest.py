"""Tests here call the WSGI application itself (schemathesis), not Django's test client.

Django closes the database connection at the start and end of every request (``close_old_connections`` on
``request_started`` / ``request_finished``). The test client switches that off while it runs a request, so the
request sees the test's transaction; calling the WSGI app directly does not, and on PostgreSQL the test's own
connection would be closed under it. ``wsgi_app()`` does what the test client does, around each request."""

from __future__ import annotations

from django.core.signals import request_finished, request_started
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections


class _InTheTestsTransaction:
    def __init__(self):
        self.app = get_wsgi_application()

    def __call__(self, environ, start_response):
        request_started.disconnect(close_old_connections)
        request_finished.disconnect(close_old_connections)
        try:
            response = self.app(environ, start_response)
            try:
                body = b"".join(response)
            finally:
                response.close()  # sends request_finished, while close_old_connections is off
            return [body]
        finally:
            request_started.connect(close_old_connections)
            request_finished.connect(close_old_connections)


def wsgi_app():
    """The portal's WSGI application, running each request inside the test's database transaction."""
    return _InTheTestsTransaction()
