"""API: /api/v1/indicator-systems/, /api/v1/indicators/?system=ID."""


def register(router) -> None:
    pass
