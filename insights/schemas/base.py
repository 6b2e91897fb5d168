"""The bases of every request and response model, and the one paginated list."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict


class RequestModel(BaseModel):
    """A request body: unknown fields are refused (400); its field types are strict."""

    model_config = ConfigDict(extra="forbid")


class ResponseModel(BaseModel):
    """A response body (the API's, the reports', the dashboard's JSON twins)."""

    model_config = ConfigDict(from_attributes=True)


def example(body: dict[str, Any]) -> ConfigDict:
    """A response model's config with `body` as its example in the OpenAPI document (a
    test checks that every example validates against its model)."""
    return ConfigDict(from_attributes=True, json_schema_extra={"examples": [body]})


def present_fields(model: BaseModel) -> dict[str, Any]:
    """The fields the client actually sent: a partial update changes only these."""
    return {name: getattr(model, name) for name in model.model_fields_set}


class Pagination(ResponseModel):
    page: int
    page_size: int
    total: int


Item = TypeVar("Item")


class Paginated(ResponseModel, Generic[Item]):
    """One page of a list, newest first, with where it stands in the whole."""

    data: list[Item]
    pagination: Pagination
