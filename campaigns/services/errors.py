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


# How a refused value is worded, on every input path (the API's fields, customers from JSON or
# CSV): class-validator's words, which Vapi's API answers with. `{...}` are filled in by the caller.
WORDING: dict[str, str] = {
    "required": "should not be empty",
    "string": "must be a string",
    "integer": "must be an integer number",
    "boolean": "must be a boolean value",
    "object": "must be an object",
    "array": "must be an array",
    "max_length": "must be shorter than or equal to {max_length} characters",
    "min_length": "must be longer than or equal to {min_length} characters",
    "max_value": "must not be greater than {max_value}",
    "min_value": "must not be less than {min_value}",
    "max_items": "must contain no more than {max_length} elements",
    "min_items": "must contain at least {min_length} elements",
    "choice": "must be one of the following values: {choices}",
    "datetime": "must be a valid ISO 8601 date string",
    "offset": "must include a UTC offset (Z or ±hh:mm), e.g. 2026-12-01T14:00:00Z",
    "unknown": "should not exist",  # written "property <field> should not exist"
    "body": "request body must be a JSON object",
}


@dataclass(frozen=True)
class FieldError:
    """One problem with one input. `field` is a dotted path in the words of whoever was given
    the input: a service names its own parameters and input attributes in snake_case
    ("strategy.max_attempts", "phone_number_id", "customers.3.number"; the API translates them,
    campaigns/api/names.py), an importer names lines ("line 7.number")."""

    field: str
    message: str

    def __str__(self) -> str:
        if self.message == WORDING["unknown"]:
            return f"property {self.field} {self.message}"
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
