"""Every error reads in one voice: one sentence, a capital first and a period last, naming
what is wrong; a missing thing "does not exist" (never "was not found")."""

from __future__ import annotations

import ast
import re
import uuid
from pathlib import Path

from insights import errors
from tests.support.api import Api

PACKAGE = Path(__file__).parent.parent / "insights"
ERROR_CLASSES = {
    name
    for name, value in vars(errors).items()
    if isinstance(value, type) and issubclass(value, errors.InsightsError)
}
# One sentence: no full stop inside followed by another sentence.
SENTENCE = re.compile(r"^[A-Z][^\n]*\.$")


def _raised_messages() -> list[tuple[str, str]]:
    """(where, the message's text with its {} holes) of every `raise SomeError("...")`."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if not (isinstance(node, ast.Raise) and isinstance(node.exc, ast.Call)):
                continue
            call = node.exc
            name = getattr(call.func, "id", getattr(call.func, "attr", ""))
            if name in ERROR_CLASSES and call.args:
                text = _text(call.args[0])
                if text is not None:
                    found.append((f"{path.name}:{node.lineno}", text))
    return found


def _text(node: ast.expr) -> str | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            str(part.value) if isinstance(part, ast.Constant) else "X" for part in node.values
        )
    return None


def _assert_voice(message: str) -> None:
    assert SENTENCE.match(message), message
    assert not re.search(r"\. [A-Z]", message), f"two sentences: {message}"
    assert "was not found" not in message and "not found" not in message, message


def test_every_raised_message_is_one_sentence_of_the_service_voice() -> None:
    messages = _raised_messages()
    assert len(messages) > 40
    for where, text in messages:
        try:
            _assert_voice(text)
        except AssertionError as exc:
            raise AssertionError(f"{where}: {exc}") from None


def test_errors_on_the_wire_read_the_same(api: Api, other_api: Api) -> None:
    missing = uuid.uuid4()
    source = api.create("sources", name="S", source_type="snowflake")
    api.create("models", name="M", source_id=source["id"])
    responses = [
        api.get("/sources", params={"status": "nope"}),  # 400, the service's own
        api.post("/sources", json={"name": 5}),  # 400, from validation
        api.post("/sources", content=b"{", headers={"Content-Type": "application/json"}),
        api.get("/sources", key="sk_live_" + "x" * 40),  # 401
        api.get("/sources", headers={"X-Workspace-ID": str(other_api.workspace_id)}),  # 400
        api.get(f"/sources/{missing}"),  # 404
        api.get("/nope"),  # 404 of no route
        api.delete("/sources"),  # 405
        api.delete(f"/sources/{source['id']}"),  # 409
        api.get("/insights/audience-overlap", params={"audience_ids": str(missing)}),
        api.get("/insights/audience-trends", params={"audience_ids": str(missing)}),
        api.get("/insights/sync-health", params={"days": "0"}),
    ]
    statuses = set()
    for response in responses:
        assert response.status_code >= 400, response.text
        statuses.add(response.status_code)
        _assert_voice(response.json()["error"])
    assert statuses == {400, 401, 404, 405, 409}
    missing_messages = [r.json()["error"] for r in responses if r.status_code == 404]
    assert all("does not exist" in m or "No route" in m for m in missing_messages)
