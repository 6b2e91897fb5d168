"""Sorting a run of keys in numpy: the same distinct keys, in the same order, as Python's
sort of the strings (code point order, which SQLite and PostgreSQL's "C" collation share)."""

from __future__ import annotations

import json
import random

import numpy as np
import pytest

from insights.members import sorting
from insights.members.sorting import (
    kept_rows,
    key_table,
    needs_json_escape,
    sorted_unique,
    sorted_unique_json,
)

ALPHABET = ["a", "b", "Z", "0", " ", "é", "ß", "键", "🙂", "ключ", "\u0301", "\x7f"]


def _sorted_keys(keys: list[str]) -> list[str]:
    result = sorted_unique_json("\n".join(keys).encode())
    assert result is not None
    array, count = result
    decoded: list[str] = json.loads(array.tobytes())
    assert count == len(decoded)
    return decoded


@pytest.mark.parametrize("seed", range(20))
def test_random_keys_come_back_distinct_and_in_code_point_order(seed: int) -> None:
    rng = random.Random(seed)
    words = ["".join(rng.choices(ALPHABET, k=rng.randint(1, 8))) for _ in range(300)]
    keys = rng.choices(words, k=rng.randint(1, 600))
    assert _sorted_keys(keys) == sorted(set(keys))


def test_keys_of_one_length_and_a_key_that_prefixes_another() -> None:
    assert _sorted_keys(["bb", "ab", "bb", "aa"]) == ["aa", "ab", "bb"]
    assert _sorted_keys(["ab", "a", "abc", "a"]) == ["a", "ab", "abc"]
    assert _sorted_keys(["only"]) == ["only"]


def test_keys_are_sorted_across_several_numpy_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sorting, "STEP_ROWS", 7)
    keys = [f"k{n % 53}" + "x" * (n % 5) for n in range(500)]
    assert _sorted_keys(keys) == sorted(set(keys))


def _sorted_table(blocks: list[list[str]]) -> list[str]:
    table = key_table(["\n".join(keys).encode() for keys in blocks])
    assert table is not None
    return _keys(sorted_unique(table))


def _keys(table: np.ndarray) -> list[str]:
    return [row.tobytes().rstrip(b"\x00").decode() for row in table]


@pytest.mark.parametrize("seed", range(20))
def test_an_upload_table_holds_the_distinct_keys_of_every_block_in_order(seed: int) -> None:
    rng = random.Random(seed)
    words = ["".join(rng.choices(ALPHABET, k=rng.randint(1, 8))) for _ in range(300)]
    blocks = [rng.choices(words, k=rng.randint(1, 200)) for _ in range(rng.randint(1, 6))]
    assert _sorted_table(blocks) == sorted({key for block in blocks for key in block})


def test_repeats_are_dropped_across_numpy_steps(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sorting, "STEP_ROWS", 4)
    blocks = [["k1", "k1", "k2"], ["k2"] * 9 + ["k3"], ["k1", "k4", "k4", "k4", "k4", "k5"]]
    assert _sorted_table(blocks) == ["k1", "k2", "k3", "k4", "k5"]
    assert _sorted_table([["same"] * 10, ["same"]]) == ["same"]


def test_an_upload_too_wide_for_the_table_is_left_to_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(sorting, "MAX_UPLOAD_TABLE_BYTES", 1000)
    blocks = [b"a" * 256 + b"\nb", b"c\nd"]  # 4 keys of up to 256 bytes: 1,024 bytes
    assert key_table(blocks) is None
    assert blocks == [b"a" * 256 + b"\nb", b"c\nd"]  # kept for the database


def test_a_table_keeps_its_keys_in_order_until_sorted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sorting, "STEP_ROWS", 3)
    table = key_table([b"b\nab\nb", "é\ncc\na".encode()])
    assert table is not None
    assert _keys(table) == ["b", "ab", "b", "é", "cc", "a"]
    kept = kept_rows(table, np.array([True, False, True, True, False, True]))
    assert _keys(kept) == ["b", "b", "é", "a"]
    assert _keys(sorted_unique(kept)) == ["a", "b", "é"]


def test_a_run_too_wide_for_the_table_is_left_to_the_database() -> None:
    wide = ["a" * 256] * (sorting.MAX_TABLE_BYTES // 256 + 1)
    assert sorted_unique_json("\n".join(wide).encode()) is None


@pytest.mark.parametrize("key", ['a"b', "a\\b", "a\tb", "a\x01b", "a\x1fb"])
def test_keys_that_json_escapes_are_found(key: str) -> None:
    assert needs_json_escape(f"plain\n{key}\nother".encode())


def test_plain_keys_need_no_escape() -> None:
    assert not needs_json_escape("plain\nключ\n🙂 x\n\x7f".encode())
