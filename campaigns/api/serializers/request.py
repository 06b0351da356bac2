"""The base of the API's request serializers: one JSON object (or array of them) read with the
serializer's fields (serializers/fields.py): unknown properties refused, JSON null read as absent
(class-validator's @IsOptional), every problem collected (not just the first) under its key, as
DRF details. campaigns.api.errors turns those into Vapi's envelope:
``customers.3.number must be longer than or equal to 3 characters``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.core.validators import MaxLengthValidator, MinLengthValidator
from rest_framework import serializers
from rest_framework.exceptions import ErrorDetail, ValidationError
from rest_framework.fields import empty
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings

from campaigns.services.errors import WORDING

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY
MISSING: Any = object()  # what `RequestSerializer.take` returns for an absent or refused value


class Problems:
    """A request's problems as DRF details, by key in the order met: a field's own detail
    (messages, or a nested serializer's), and rules' messages added to it."""

    def __init__(self) -> None:
        self.details: dict[str, Any] = {}

    def set(self, key: str, detail: Any) -> None:
        """A field's own detail: its messages, a nested object's details by key, or an array's
        (its own messages, or one entry per item). Messages `add` put first stay first."""
        earlier = self.details.get(key)
        if earlier is None:
            self.details[key] = detail
        elif isinstance(detail, dict):
            self.details[key] = {NON_FIELD: earlier, **detail}
        else:
            earlier.extend(detail)

    def add(self, key: str, message: str, code: str = "invalid") -> None:
        """A message about `key` as a whole (a rule that spans fields, an unknown key)."""
        detail = self.details.setdefault(key, [])
        if isinstance(detail, dict):
            detail = detail.setdefault(NON_FIELD, [])
        detail.append(ErrorDetail(message, code=code))

    def raise_any(self) -> None:
        if self.details:
            raise ValidationError(self.details)


class RequestList(serializers.ListSerializer):
    """A JSON array of one request serializer's objects, between min_length and max_length."""

    default_error_messages = {
        "not_a_list": WORDING["array"],
        "null": WORDING["array"],
        "min_length": WORDING["min_items"],
        "max_length": WORDING["max_items"],
    }

    def get_validators(self) -> list:
        """The bounds on the array's length (documented from these as minItems and maxItems)."""
        found = []
        if self.min_length is not None:
            message = self.error_messages["min_length"].format(min_length=self.min_length)
            found.append(MinLengthValidator(self.min_length, message=message))
        if self.max_length is not None:
            message = self.error_messages["max_length"].format(max_length=self.max_length)
            found.append(MaxLengthValidator(self.max_length, message=message))
        return found

    def run_validation(self, data: Any = empty) -> list:
        return self.to_internal_value(None if data is empty else data)

    def to_internal_value(self, data: Any) -> list:
        """The array's items read by the child, after its type and length (so a list too long
        is refused as such, its items unread)."""
        if not isinstance(data, list):
            if self.parent is None:  # the whole body: its message names it
                raise ValidationError(ErrorDetail(self.error_messages["not_a_list"], code="body"))
            self.fail("not_a_list")
        self.run_validators(data)
        read, values, errors = self.child.run_validation, [], {}
        for index, item in enumerate(data):
            try:
                values.append(read(item))
            except ValidationError as exc:
                errors[index] = exc.detail
        if errors:  # one entry per item, by index; the good ones empty
            raise ValidationError([errors.get(index, {}) for index in range(len(data))])
        return values


class RequestSerializer(serializers.Serializer):
    """One JSON object of a request body, read with the serializer's fields.

    `to_internal_value` returns what the service takes (by default, the values given, by field
    name); subclasses whose rules span fields (one of three targets, phoneNumberId or dialPlan)
    read field by field with `begin`, `take` and `Problems`, in the order the problems are
    reported.
    """

    # JSON null counts as absent (class-validator's @IsOptional); a serializer in which null
    # means something (unset this setting) says False, and its fields say allow_null.
    null_is_absent: ClassVar[bool] = True
    # The order fields are read in, which is the order their problems are reported in, when it
    # is not the order they are declared (and documented) in.
    read_order: ClassVar[tuple[str, ...]] = ()
    # A body that is not an object is refused at once; True: its required fields are reported
    # missing too (as /phone-number and /dnc always have).
    read_non_object: ClassVar[bool] = False

    class Meta:
        list_serializer_class = RequestList

    def run_validation(self, data: Any = empty) -> Any:
        """A missing or null body is the request's problem to word too, not DRF's."""
        try:
            return self.to_internal_value(None if data is empty else data)
        except ValidationError as exc:
            raise ValidationError(detail=as_serializer_error(exc)) from None

    def begin(self, data: Any) -> tuple[Problems, Mapping]:
        """Problems of the object as a whole (not an object, unknown keys), and the object to
        read its fields from. Not an object is raised at once, unless `read_non_object`."""
        problems = Problems()
        if not isinstance(data, Mapping):
            if self.parent is None:
                problem = ErrorDetail(WORDING["body"], code="body")
            else:
                problem = ErrorDetail(WORDING["object"], code="object")
            if not self.read_non_object:
                raise ValidationError(problem)
            problems.set(NON_FIELD, [problem])
            return problems, {}
        for key in data:
            if key not in self.fields:
                problems.add(str(key), WORDING["unknown"], code="unknown")
        return problems, data

    def given(self, data: Mapping, name: str) -> bool:
        """Whether the body gives `name` a value (null is no value unless null means something)."""
        return name in data and (data[name] is not None or not self.null_is_absent)

    def take(self, data: Mapping, name: str, problems: Problems) -> Any:
        """The field's value, or MISSING when it is absent (a problem if it is required) or refused."""
        field = self.fields[name]
        if not self.given(data, name):
            if field.required:
                problems.add(name, WORDING["required"], code="required")
            return MISSING
        try:
            return field.run_validation(data[name])
        except ValidationError as exc:
            problems.set(name, exc.detail)
            return MISSING

    def to_internal_value(self, data: Any) -> Any:
        problems, data = self.begin(data)
        values = {}
        for name in self.read_order or self.fields:
            value = self.take(data, name, problems)
            if value is not MISSING:
                values[name] = value
        problems.raise_any()
        return values
