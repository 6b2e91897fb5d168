"""Request and response models of audience evaluations (contract 4.3)."""

from __future__ import annotations

from pydantic import Field, model_validator

from insights.schemas.base import RequestModel, ResponseModel
from insights.types import ID, Count, EventTimestamp, OutTimestamp, Text

MemberKeyList = list[Text]


class EvaluationCreate(RequestModel):
    """One of three forms: `members`, `added`/`removed`, or `size` alone."""

    evaluated_at: EventTimestamp | None = None
    members: MemberKeyList | None = None
    added: MemberKeyList | None = None
    removed: MemberKeyList | None = None
    size: Count | None = None

    @model_validator(mode="after")
    def _one_form(self) -> EvaluationCreate:
        forms = [
            self.members is not None,
            self.added is not None or self.removed is not None,
            self.size is not None,
        ]
        if sum(forms) != 1:
            raise ValueError(
                "an evaluation carries exactly one of: members, added/removed, or size"
            )
        return self


class EvaluationRead(ResponseModel):
    id: ID
    audience_id: ID
    evaluated_at: OutTimestamp
    size: int
    members_added: int | None
    members_removed: int | None
    has_members: bool = Field(description="Whether this evaluation carried a member list.")
