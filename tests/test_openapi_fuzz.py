"""Fuzzing every operation of the OpenAPI schema in-process (schemathesis): whatever a client
sends, the service answers without a 5xx, and every 4xx carries the {"error"} body."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode, Response

from insights.app import create_app
from tests.support.api import Api, make_settings, new_workspace_api
from tests.support.databases import open_database
from tests.support.graph import build_graph, fill_path

# Examples per operation and generation mode: about 40 operations x 2 modes x this, per
# database, keeps the file well under a minute.
EXAMPLES = 5


@dataclass
class Target:
    """The app under fuzzing and the workspace it is fuzzed in."""

    client: TestClient
    api: Api
    schema: Any  # schemathesis's schema, operations and cases are used untyped


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def target(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Target]:
    """One app for the module on each database, with a workspace and its admin key."""
    if request.param == "sqlite":
        path = tmp_path_factory.mktemp("fuzz") / "insights.db"
        shutil.copy(request.getfixturevalue("sqlite_template"), path)
        url = f"sqlite:///{path}"
    else:
        url = request.getfixturevalue("pg_url")
    database = open_database(request.param, url)
    with TestClient(create_app(make_settings(database))) as client:
        api = new_workspace_api(database, client, name="Fuzzed")
        schema = schemathesis.openapi.from_asgi("/openapi.json", client.app)
        yield Target(client, api, schema)
    database.engine.dispose()


def _operations(schema: Any) -> list[Any]:
    return [result.ok() for result in schema.get_all_operations()]


def _check(response: Response) -> str | None:
    """What is wrong with a response, or None."""
    if response.status_code >= 500:
        return f"{response.status_code}: {response.text[:300]}"
    if response.status_code >= 400:
        try:
            body = response.json()
        except ValueError:
            return f"{response.status_code} without a JSON body: {response.text[:300]}"
        if not isinstance(body, dict) or not isinstance(body.get("error"), str):
            return f"{response.status_code} without the error body: {response.text[:300]}"
    return None


def _fuzz(target: Target, operation: Any, path_parameters: dict[str, str]) -> None:
    headers = target.api.headers()
    strategies = [
        operation.as_strategy(mode, path_parameters=path_parameters, headers=headers)
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)
    ]

    @settings(
        max_examples=EXAMPLES * len(strategies),
        deadline=None,
        database=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=st.one_of(strategies))
    def run(case: Any) -> None:
        # The key and workspace are fixed: a generated header must not replace them.
        case.headers = {**(case.headers or {}), **headers}
        case.path_parameters = {**(case.path_parameters or {}), **path_parameters}
        try:
            response = case.call()
        except Exception as exc:  # the app raised instead of answering: a 500
            raise AssertionError(f"{case.method} {case.formatted_path}: raised {exc!r}") from exc
        problem = _check(response)
        assert problem is None, f"{case.method} {case.formatted_path}: {problem}"

    run()


def _live_ids(api: Api) -> dict[str, str]:
    """IDs of a live object of every kind (and of a key the fuzzer may revoke, never the one
    it calls with), by the path segment that names them."""
    ids = build_graph(api)
    ids["api-keys"] = api.post("/api-keys", json={"name": "spare", "scope": "read"}).json()["id"]
    return ids


def _path_parameters(template: str, api: Api, ids: dict[str, str]) -> dict[str, str]:
    filled = fill_path(template, api.workspace_id, ids).split("/")
    names = template.split("/")
    return {n[1:-1]: v for n, v in zip(names, filled, strict=True) if n.startswith("{")}


def test_no_operation_answers_5xx_or_an_error_without_the_error_body(target: Target) -> None:
    api, failures = target.api, []
    operations = _operations(target.schema)
    assert len(operations) >= 40
    # Deletes last, each on fresh objects: the others share one set of live objects.
    operations.sort(key=lambda operation: operation.method.upper() == "DELETE")
    ids = _live_ids(api)
    for operation in operations:
        if operation.method.upper() == "DELETE":
            ids = _live_ids(api)
        variants: list[dict[str, str]] = [{}]
        if "{workspace_id}" in operation.path:
            # Generated IDs (mostly unknown or malformed) and live ones (deeper code paths).
            variants = [{"workspace_id": str(api.workspace_id)}]
            if operation.path.count("{") > 1:
                variants.append(_path_parameters(operation.path, api, ids))
        for path_parameters in variants:
            try:
                _fuzz(target, operation, path_parameters)
            except AssertionError as exc:
                failures.append(f"{operation.label}: {exc}".splitlines()[0])
    assert not failures, "\n".join(failures)
    # Fuzzing through a key that had stopped working would have proved nothing.
    assert api.get("").status_code == 200
