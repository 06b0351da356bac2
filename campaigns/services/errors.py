"""Domain errors. The API maps them to Vapi's error envelope, the dashboard to messages."""

from __future__ import annotations

from dataclasses import dataclass


class DomainError(Exception):
    """Base of every refusal a service makes."""


class InvalidTransition(DomainError):
    """A lifecycle change the campaign's current status does not allow (API: 409)."""

    def __init__(self, *, action: str, current: str, detail: str = "") -> None:
        self.action = action
        self.current = current
        message = detail or f"cannot {action} a campaign that is {current}"
        super().__init__(message)


@dataclass(frozen=True)
class FieldError:
    field: str  # dotted path in the API's camelCase, e.g. "customers.3.number"
    message: str

    def __str__(self) -> str:
        return f"{self.field} {self.message}" if self.field else self.message


class ValidationFailed(DomainError):
    """Input the rules refuse (API: 400). Carries every problem found, not just the first."""

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(str(e) for e in errors))

    @classmethod
    def one(cls, field: str, message: str) -> ValidationFailed:
        return cls([FieldError(field, message)])


class NotFound(DomainError):
    """The object does not exist in the caller's organization (API: 404)."""
