"""The OpenAPI document is one a client generator can use: unique short operation IDs, a
summary on every operation, typed pages, the error body, examples that validate."""

from __future__ import annotations

import re
from typing import Any

from fastapi.testclient import TestClient

from insights.reports import (
    activation_coverage,
    audience_overlap,
    audience_trends,
    summary,
    sync_health,
)
from insights.schemas.base import ResponseModel

IDENTIFIER = re.compile(r"^[a-z][a-z0-9_]*$")
INSIGHTS: list[type[ResponseModel]] = [
    sync_health.SyncHealthResponse,
    audience_trends.AudienceTrendsResponse,
    activation_coverage.ActivationCoverageResponse,
    audience_overlap.AudienceOverlapResponse,
    summary.SummaryResponse,
]


def _operations(client: TestClient) -> list[tuple[str, str, dict[str, Any]]]:
    document = client.get("/openapi.json").json()
    return [
        (method, path, operation)
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
    ]


def test_every_operation_has_a_short_unique_id_and_a_one_line_summary(
    client: TestClient,
) -> None:
    operations = _operations(client)
    ids = [operation["operationId"] for _, _, operation in operations]
    assert len(ids) == len(set(ids)) and len(ids) > 50
    for method, path, operation in operations:
        assert IDENTIFIER.match(operation["operationId"]), (method, path)
        assert len(operation["operationId"]) <= 40, (method, path)
        summary_line = operation.get("summary", "")
        assert summary_line and "\n" not in summary_line, (method, path)


def test_lists_answer_a_typed_page(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    schemas = document["components"]["schemas"]
    lists = [
        (path, operation)
        for method, path, operation in _operations(client)
        if method == "get" and operation["operationId"].startswith("list_")
    ]
    assert len(lists) >= 11
    for path, operation in lists:
        body = operation["responses"]["200"]["content"]["application/json"]["schema"]
        name = body["$ref"].rsplit("/", 1)[-1]
        page = schemas[name]["properties"]
        assert page["data"]["items"]["$ref"].startswith("#/components/schemas/"), path
        assert page["pagination"]["$ref"].endswith("/Pagination"), path


def test_workspace_operations_document_the_error_body(client: TestClient) -> None:
    for _, path, operation in _operations(client):
        if path.startswith("/api/v1/workspaces/"):
            for status in ("400", "401", "403", "404"):
                error = operation["responses"][status]["content"]["application/json"]
                assert error["schema"]["$ref"].endswith("/ErrorBody"), (path, status)


def test_every_insight_has_an_example_that_its_model_accepts(client: TestClient) -> None:
    document = client.get("/openapi.json").json()
    for model in INSIGHTS:
        examples = document["components"]["schemas"][model.__name__]["examples"]
        assert examples, model.__name__
        for example in examples:
            assert isinstance(model.model_validate(example), ResponseModel)
