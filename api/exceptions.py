"""Errors as JSON with a status that says what happened; never a 500 for bad input."""

from django.core.exceptions import ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler

from plans.services import PlanError
from rooms.revision import RoomReadOnly
from rooms.services import OutcomeError
from rooms.versioning import StaleWrite


class PreconditionRequired(exceptions.APIException):
    status_code = 428
    default_detail = "Send If-Match with the ETag you read; changes need it."
    default_code = "precondition_required"


class ReadOnly(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The room is read-only."
    default_code = "read_only"


class PreconditionFailed(exceptions.APIException):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    default_detail = "It changed since you read it: read it again and retry with its ETag."
    default_code = "precondition_failed"

    def __init__(self, current_version=None):
        super().__init__()
        self.current_version = current_version


def _django_errors(exc):
    if hasattr(exc, "message_dict"):
        return {
            ("non_field_errors" if k == "__all__" else k): v for k, v in exc.message_dict.items()
        }
    return {"non_field_errors": exc.messages}


def handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(_django_errors(exc))
    elif isinstance(exc, PlanError | OutcomeError):
        exc = exceptions.ValidationError({"non_field_errors": [str(exc)]})
    elif isinstance(exc, RoomReadOnly):  # a lost deal: reopen it first
        exc = ReadOnly(str(exc))
    elif isinstance(exc, StaleWrite):
        exc = PreconditionFailed(getattr(exc.instance, "version", None))
    elif isinstance(exc, ObjectDoesNotExist):
        exc = exceptions.NotFound()
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, PreconditionFailed) and exc.current_version is not None:
        response.data["current_version"] = exc.current_version
        response["ETag"] = f'"{exc.current_version}"'
    return response


def error_response(status_code, **body):
    return Response(body, status=status_code)
