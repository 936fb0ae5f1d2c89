"""Where to send a person after a POST: the one rule for ``next`` parameters.

A ``next`` value is followed only when it stays on this site (Django's ``url_has_allowed_host_and_scheme``,
which refuses ``javascript:``, ``//evil.example`` and other hosts); anything else falls back to a page we name.
"""

from __future__ import annotations

from django.shortcuts import redirect, resolve_url
from django.utils.http import url_has_allowed_host_and_scheme


def safe_next(request, candidate: str | None, fallback: str) -> str:
    """``candidate`` if it is a same-site URL, otherwise ``fallback`` (a URL or a URL name)."""
    if candidate and url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return resolve_url(fallback)


def redirect_next(request, fallback: str, *args):
    """Redirect to the POSTed (or queried) ``next`` when it is safe, else to ``fallback`` (name + args)."""
    default = resolve_url(fallback, *args) if args else resolve_url(fallback)
    return redirect(safe_next(request, request.POST.get("next") or request.GET.get("next"), default))
