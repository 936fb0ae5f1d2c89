"""The one error type services raise: a message a person can act on, and how the API should answer."""


class DomainError(Exception):
    http_status = 400
    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, http_status: int | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        if http_status:
            self.http_status = http_status


class PermissionDenied(DomainError):
    http_status = 403
    code = "permission_denied"


class NotFound(DomainError):
    http_status = 404
    code = "not_found"


class StaleVersion(DomainError):
    http_status = 409
    code = "stale_version"
