"""Audience overlap: hand-computed reports of 2, 3 and 5 audiences, errors, suppression."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any

import pytest
from sqlalchemy.orm import Session

from insights.errors import Conflict, NotFound
from insights.reports.audience_overlap import audience_overlap
from tests.support.databases import Database
from tests.support.factories import make_audience, make_evaluation, make_members, make_workspace

T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def _audiences(session: Session, workspace_id: uuid.UUID, **members: list[int]) -> list[uuid.UUID]:
    ids = []
    for name, numbers in members.items():
        audience = make_audience(session, workspace_id, name=name)
        keys = [f"m{number:02d}" for number in numbers]
        make_members(session, workspace_id, audience.id, keys, evaluated_at=T0)
        ids.append(audience.id)
    return ids


def _report(db: Database, workspace_id: uuid.UUID, **members: list[int]) -> dict[str, Any]:
    with db.session() as session, session.begin():
        ids = _audiences(session, workspace_id, **members)
    with db.read() as session:
        return audience_overlap(session, workspace_id, audience_ids=ids).model_dump(mode="json")


def _sizes(items: list[dict[str, Any]]) -> list[Any]:
    return [item["size"] for item in items]


def test_overlap_of_two_audiences(db: Database, workspace_id: uuid.UUID) -> None:
    report = _report(db, workspace_id, A=list(range(1, 11)), B=list(range(6, 21)))
    a, b = report["audiences"]
    assert (a["name"], a["size"], a["exclusive_size"], a["percent_in_overlap"]) == (
        "A",
        10,
        5,
        50.0,
    )
    assert (b["name"], b["size"], b["exclusive_size"], b["percent_in_overlap"]) == (
        "B",
        15,
        10,
        33.3,
    )
    assert report["overlap"] == {"size": 5, "percent_of_first": 50.0, "percent_of_second": 33.3}
    assert (report["union_size"], report["jaccard"], report["suppressed"]) == (20, 25.0, False)
    assert report["pairs"] == [
        {
            "audience_ids": [a["id"], b["id"]],
            "size": 5,
            "percent_of_first": 50.0,
            "percent_of_second": 33.3,
            "jaccard": 25.0,
        }
    ]
    assert report["distribution"] == [
        {"audience_count": 1, "size": 15},
        {"audience_count": 2, "size": 5},
    ]
    assert report["regions"] == [
        {"audience_ids": [a["id"]], "size": 5},
        {"audience_ids": [b["id"]], "size": 10},
        {"audience_ids": [a["id"], b["id"]], "size": 5},
    ]


def test_overlap_of_three_audiences_rounds_half_up(db: Database, workspace_id: uuid.UUID) -> None:
    report = _report(
        db,
        workspace_id,
        A=list(range(1, 17)),
        B=[15, 16, 17, 18],
        C=[16, 18, 19, 20, 21, 22, 23, 24],
    )
    ids = [a["id"] for a in report["audiences"]]
    assert [(a["size"], a["exclusive_size"]) for a in report["audiences"]] == [
        (16, 14),
        (4, 1),
        (8, 6),
    ]
    # 1/16 is 6.25%, exactly half way: half-up gives 6.3 where float rounding gives 6.2.
    assert [a["percent_in_overlap"] for a in report["audiences"]] == [6.3, 25.0, 12.5]
    assert report["overlap"] == {"size": 1, "percent_of_first": 6.3, "percent_of_second": 25.0}
    assert (report["union_size"], report["jaccard"]) == (24, 4.2)
    pairs = [
        (p["size"], p["percent_of_first"], p["percent_of_second"], p["jaccard"])
        for p in report["pairs"]
    ]
    assert pairs == [(2, 12.5, 50.0, 11.1), (1, 6.3, 12.5, 4.3), (2, 50.0, 25.0, 20.0)]
    assert [p["audience_ids"] for p in report["pairs"]] == [
        [ids[0], ids[1]],
        [ids[0], ids[2]],
        [ids[1], ids[2]],
    ]
    assert _sizes(report["distribution"]) == [21, 2, 1]
    names = {ids[0]: "A", ids[1]: "B", ids[2]: "C"}
    assert [
        ("".join(names[i] for i in r["audience_ids"]), r["size"]) for r in report["regions"]
    ] == [("A", 14), ("B", 1), ("C", 6), ("AB", 1), ("AC", 0), ("BC", 1), ("ABC", 1)]


def test_overlap_of_five_audiences_with_an_empty_one(db: Database, workspace_id: uuid.UUID) -> None:
    report = _report(
        db,
        workspace_id,
        A=[1, 2, 3, 4, 5, 6],
        B=[5, 6, 7, 8],
        C=[6, 8, 9],
        D=[10],
        E=[],
    )
    audiences = report["audiences"]
    assert [(a["size"], a["exclusive_size"]) for a in audiences] == [
        (6, 4),
        (4, 1),
        (3, 1),
        (1, 1),
        (0, 0),
    ]
    # E is empty: a percentage of it has no denominator.
    assert [a["percent_in_overlap"] for a in audiences] == [0.0, 0.0, 0.0, 0.0, None]
    assert report["overlap"] == {"size": 0, "percent_of_first": 0.0, "percent_of_second": 0.0}
    assert (report["union_size"], report["jaccard"]) == (10, 0.0)
    pairs = [
        (p["size"], p["percent_of_first"], p["percent_of_second"], p["jaccard"])
        for p in report["pairs"]
    ]
    assert pairs == [
        (2, 33.3, 50.0, 25.0),  # AB
        (1, 16.7, 33.3, 12.5),  # AC
        (0, 0.0, 0.0, 0.0),  # AD
        (0, 0.0, None, 0.0),  # AE
        (2, 50.0, 66.7, 40.0),  # BC
        (0, 0.0, 0.0, 0.0),  # BD
        (0, 0.0, None, 0.0),  # BE
        (0, 0.0, 0.0, 0.0),  # CD
        (0, 0.0, None, 0.0),  # CE
        (0, 0.0, None, 0.0),  # DE
    ]
    assert _sizes(report["distribution"]) == [7, 2, 1, 0, 0]
    names = {a["id"]: a["name"] for a in audiences}
    regions = [("".join(names[i] for i in r["audience_ids"]), r["size"]) for r in report["regions"]]
    assert regions == [
        ("A", 4), ("B", 1), ("C", 1), ("D", 1), ("E", 0),
        ("AB", 1), ("AC", 0), ("AD", 0), ("AE", 0), ("BC", 1),
        ("BD", 0), ("BE", 0), ("CD", 0), ("CE", 0), ("DE", 0),
        ("ABC", 1), ("ABD", 0), ("ABE", 0), ("ACD", 0), ("ACE", 0),
        ("ADE", 0), ("BCD", 0), ("BCE", 0), ("BDE", 0), ("CDE", 0),
        ("ABCD", 0), ("ABCE", 0), ("ABDE", 0), ("ACDE", 0), ("BCDE", 0),
        ("ABCDE", 0),
    ]  # fmt: skip


def test_overlap_of_two_empty_audiences_has_null_percentages(
    db: Database, workspace_id: uuid.UUID
) -> None:
    report = _report(db, workspace_id, A=[], B=[])
    assert report["overlap"] == {"size": 0, "percent_of_first": None, "percent_of_second": None}
    assert (report["union_size"], report["jaccard"]) == (0, None)
    assert report["pairs"][0]["jaccard"] is None


def test_overlap_keeps_the_order_given(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        a, b = _audiences(session, workspace_id, A=[1, 2, 3], B=[3, 4])
    with db.read() as session:
        report = audience_overlap(session, workspace_id, audience_ids=[b, a])
    assert [x.name for x in report.audiences] == ["B", "A"]
    assert (report.overlap.percent_of_first, report.overlap.percent_of_second) == (50.0, 33.3)


def test_overlap_of_unknown_audience_is_404(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        (a,) = _audiences(session, workspace_id, A=[1])
    missing = uuid.uuid4()
    with db.read() as session, pytest.raises(NotFound, match=str(missing)):
        audience_overlap(session, workspace_id, audience_ids=[a, missing])


def test_overlap_of_another_workspaces_audience_is_404(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        (a,) = _audiences(session, workspace_id, A=[1])
        other = make_workspace(session).id
        (b,) = _audiences(session, other, B=[1])
    with db.read() as session, pytest.raises(NotFound, match=str(b)):
        audience_overlap(session, workspace_id, audience_ids=[a, b])


def test_overlap_of_audience_without_member_list_is_409(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        (a,) = _audiences(session, workspace_id, A=[1])
        sized = make_audience(session, workspace_id, name="Sized")
        make_evaluation(session, workspace_id, sized.id, evaluated_at=T0, size=40)
    with db.read() as session, pytest.raises(Conflict, match=str(sized.id)):
        audience_overlap(session, workspace_id, audience_ids=[a, sized.id])


def test_overlap_reads_the_latest_member_list(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        a, b = _audiences(session, workspace_id, A=[1, 2], B=[2, 3])
        later = T0.replace(hour=13)
        make_members(session, workspace_id, a, ["m03", "m04", "m05"], evaluated_at=later)
    with db.read() as session:
        report = audience_overlap(session, workspace_id, audience_ids=[a, b])
    assert (report.audiences[0].size, report.overlap.size) == (3, 1)


def test_more_than_eight_audiences_have_no_regions(db: Database, workspace_id: uuid.UUID) -> None:
    members = {f"A{i}": [i, i + 1, 20] for i in range(9)}
    report = _report(db, workspace_id, **members)
    assert report["regions"] is None
    assert report["overlap"]["size"] == 1
    assert [a["exclusive_size"] for a in report["audiences"]] == [1] + [0] * 7 + [1]
    assert _sizes(report["distribution"]) == [2, 8, 0, 0, 0, 0, 0, 0, 1]
    assert report["union_size"] == 11


# Suppression ---------------------------------------------------------------------------


def test_min_count_suppresses_small_counts_and_what_reveals_them(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        ids = _audiences(session, workspace_id, A=list(range(1, 11)), B=list(range(10, 31)))
    with db.read() as session:
        report = audience_overlap(session, workspace_id, audience_ids=ids, min_count=5)
    data = report.model_dump(mode="json")
    assert data["suppressed"] is True
    assert [a["size"] for a in data["audiences"]] == [10, 21]
    # The overlap (1) is suppressed; the union, exclusive sizes and one-audience counts
    # would give it away as differences of the sizes, so they go too.
    assert data["overlap"] == {"size": None, "percent_of_first": None, "percent_of_second": None}
    assert (data["union_size"], data["jaccard"]) == (None, None)
    assert [a["exclusive_size"] for a in data["audiences"]] == [None, None]
    assert _sizes(data["distribution"]) == [None, None]
    assert _sizes(data["regions"]) == [None, None, None]


def test_without_small_counts_nothing_is_suppressed(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        ids = _audiences(session, workspace_id, A=list(range(1, 11)), B=list(range(6, 21)))
    with db.read() as session:
        report = audience_overlap(session, workspace_id, audience_ids=ids, min_count=5)
    assert report.suppressed is False
    assert report.overlap.size == 5


def test_suppression_above_eight_audiences_keeps_only_zeros(
    db: Database, workspace_id: uuid.UUID
) -> None:
    members = {f"A{i}": [*range(10 * i, 10 * i + 12)] for i in range(9)}
    report = _report(db, workspace_id, **members)
    with db.read() as session:
        ids = [uuid.UUID(a["id"]) for a in report["audiences"]]
        data = audience_overlap(session, workspace_id, audience_ids=ids, min_count=3)
    assert data.suppressed is True
    assert all(a.size is None and a.exclusive_size is None for a in data.audiences)
    assert data.overlap.size == 0
    assert [d.size for d in data.distribution] == [None, None, 0, 0, 0, 0, 0, 0, 0]


def _field_cells(report: dict[str, Any]) -> list[tuple[Any, set[int]]]:
    """Every count of a report with the set of region masks it sums."""
    ids = [a["id"] for a in report["audiences"]]
    full = (1 << len(ids)) - 1
    masks = range(1, full + 1)
    cells = []
    for i, a in enumerate(report["audiences"]):
        cells.append((a["size"], {m for m in masks if m >> i & 1}))
        cells.append((a["exclusive_size"], {1 << i}))
    cells.append((report["overlap"]["size"], {full}))
    cells.append((report["union_size"], set(masks)))
    for pair in report["pairs"]:
        both = sum(1 << ids.index(x) for x in pair["audience_ids"])
        cells.append((pair["size"], {m for m in masks if m & both == both}))
    for entry in report["distribution"]:
        cells.append(
            (entry["size"], {m for m in masks if m.bit_count() == entry["audience_count"]})
        )
    for region in report["regions"]:
        cells.append((region["size"], {sum(1 << ids.index(x) for x in region["audience_ids"])}))
    return cells


def _in_span(vector: list[Fraction], rows: list[list[Fraction]]) -> bool:
    """Whether `vector` is a rational linear combination of `rows`: any chain of sums and
    differences of the shown counts that lands on it."""
    return _rank([*rows, vector]) == _rank(rows)


def _rank(rows: list[list[Fraction]]) -> int:
    basis: list[tuple[int, list[Fraction]]] = []
    for original in rows:
        row = list(original)
        for pivot, b in basis:
            if row[pivot]:
                factor = row[pivot]
                row = [x - factor * y for x, y in zip(row, b, strict=True)]
        nonzero = next((i for i, x in enumerate(row) if x), None)
        if nonzero is not None:
            basis.append((nonzero, [x / row[nonzero] for x in row]))
    return len(basis)


def _check_no_suppressed_count_is_derivable(
    report: dict[str, Any], truth: dict[str, Any], min_count: int
) -> None:
    shown_cells, true_cells = _field_cells(report), _field_cells(truth)
    dim = (1 << len(report["audiences"])) - 1

    def vector(masks: set[int]) -> list[Fraction]:
        return [Fraction(1 if m + 1 in masks else 0) for m in range(dim)]

    shown = [vector(masks) for value, masks in shown_cells if value is not None]
    for (value, masks), (true_value, _) in zip(shown_cells, true_cells, strict=True):
        if value is not None:
            assert value == true_value and not 0 < value < min_count
        elif 0 < true_value < min_count:
            assert not _in_span(vector(masks), shown), (masks, true_value)


def _check_percentages_only_from_shown_counts(report: dict[str, Any]) -> None:
    overlap = report["overlap"]["size"]
    for a in report["audiences"]:
        if overlap is None or a["size"] is None:
            assert a["percent_in_overlap"] is None
    if overlap is None or report["union_size"] is None:
        assert report["jaccard"] is None
    for pair in report["pairs"]:
        if pair["size"] is None:
            assert pair["percent_of_first"] is None and pair["jaccard"] is None


@pytest.mark.parametrize("seed", range(6))
def test_no_suppressed_count_can_be_worked_out_from_the_others(
    db: Database, workspace_id: uuid.UUID, seed: int
) -> None:
    rng = random.Random(seed)
    n = 2 + seed % 3
    universe = list(range(1, 60))
    members = {f"A{i}": rng.sample(universe, rng.randint(3, 30)) for i in range(n)}
    with db.session() as session, session.begin():
        ids = _audiences(session, workspace_id, **members)
    with db.read() as session:
        truth = audience_overlap(session, workspace_id, audience_ids=ids).model_dump(mode="json")
        for min_count in (2, 4, 8, 16):
            report = audience_overlap(session, workspace_id, audience_ids=ids, min_count=min_count)
            data = report.model_dump(mode="json")
            _check_no_suppressed_count_is_derivable(data, truth, min_count)
            _check_percentages_only_from_shown_counts(data)
