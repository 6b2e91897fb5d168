"""Member keys and bitmaps: dense encoding, storage of the current list, cache, garbage."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from insights import members
from insights.errors import Conflict
from insights.members import BitMap, BitmapCache, MemberEncoder, encode_keys, sorting
from insights.members import encoder as encoder_module
from insights.members.dictionary import MAX_MEMBER_ID as MAX_ID
from insights.members.encoding import SqliteStage
from insights.models import Audience, MemberBitmap, MemberKey, Workspace
from tests.support.bitmaps import current_members
from tests.support.databases import Database
from tests.support.factories import make_audience, make_members, make_workspace

T0 = datetime(2024, 1, 15, 12, 0, tzinfo=UTC)


def _dictionary(session: Session, workspace_id: uuid.UUID) -> dict[str, int]:
    rows = session.execute(
        select(MemberKey.key, MemberKey.member_id).where(MemberKey.workspace_id == workspace_id)
    )
    return {key: member_id for key, member_id in rows}


def _stored_size(session: Session, workspace_id: uuid.UUID) -> int:
    query = select(Workspace.member_key_count).where(Workspace.id == workspace_id)
    return session.execute(query).scalar_one()


def _next_id(session: Session, workspace_id: uuid.UUID) -> int:
    query = select(Workspace.next_member_id).where(Workspace.id == workspace_id)
    return session.execute(query).scalar_one()


def test_keys_get_dense_ids_from_zero(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        bitmap = encode_keys(session, workspace_id, ["c", "a", "b"])
        assert list(bitmap) == [0, 1, 2]
        assert _dictionary(session, workspace_id) == {"a": 0, "b": 1, "c": 2}
        assert _next_id(session, workspace_id) == 3


def test_keys_compare_exactly(db: Database, workspace_id: uuid.UUID) -> None:
    keys = ["key", "Key", "KEY", "ключ", "键", "🙂", "é", "e\u0301", " key ", "a\tb", "a\\b", "\\N"]
    with db.session() as session, session.begin():
        bitmap = encode_keys(session, workspace_id, keys)
        assert len(bitmap) == len(keys)
        assert set(_dictionary(session, workspace_id)) == set(keys)


def test_duplicates_count_once(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        bitmap = encode_keys(session, workspace_id, ["a", "b", "a", "a", "b"])
        assert len(bitmap) == 2
        assert _next_id(session, workspace_id) == 2


def test_known_keys_get_no_new_ids(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        first = encode_keys(session, workspace_id, ["a", "b", "c"])
    with db.session() as session, session.begin():
        again = encode_keys(session, workspace_id, ["c", "b", "a"])
        mixed = encode_keys(session, workspace_id, ["b", "d"])
        assert again == first
        assert list(mixed) == [1, 3]
        assert _next_id(session, workspace_id) == 4


def test_ids_are_shared_across_audiences(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        a = make_audience(session, workspace_id, name="A")
        b = make_audience(session, workspace_id, name="B")
        make_members(session, workspace_id, a.id, ["x", "y"], evaluated_at=T0)
        make_members(session, workspace_id, b.id, ["y", "z"], evaluated_at=T0)
    with db.read() as session:
        _, first = current_members(session, workspace_id, a.id)
        _, second = current_members(session, workspace_id, b.id)
        assert list(first & second) == [_dictionary(session, workspace_id)["y"]]


def test_unknown_keys_are_skipped_without_create(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        encode_keys(session, workspace_id, ["a", "b"])
        assert list(encode_keys(session, workspace_id, ["b", "zz"], create=False)) == [1]
        assert _next_id(session, workspace_id) == 2
        assert "zz" not in _dictionary(session, workspace_id)


def test_each_workspace_has_its_own_dictionary(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        other = make_workspace(session).id
        encode_keys(session, workspace_id, ["a", "b"])
        assert list(encode_keys(session, other, ["b"])) == [0]
        assert list(encode_keys(session, other, ["a"], create=False)) == []
        assert _dictionary(session, other) == {"b": 0}


def test_encoder_takes_many_batches(
    db: Database, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(encoder_module, "ENCODE_BATCH", 7)
    keys = [f"k{i % 40}" for i in range(100)]
    with db.session() as session, session.begin():
        assert len(encode_keys(session, workspace_id, keys)) == 40
        encoder = MemberEncoder(session, workspace_id)
        encoder.add(["k1", "new1"])
        encoder.add([])
        encoder.add(["new2", "k1"])
        assert len(encoder.finish()) == 3
        assert _next_id(session, workspace_id) == 42
        assert len(MemberEncoder(session, workspace_id).finish()) == 0


def test_runs_encoded_in_the_background_see_each_other(
    db: Database, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SQLite encodes a run while the next is sorted; a key new in one run is known in the
    next, and every key of every run gets the same ID on both databases."""
    monkeypatch.setattr(SqliteStage, "RUN_KEYS", 5)
    monkeypatch.setattr(encoder_module, "ENCODE_BATCH", 3)
    with db.session() as session, session.begin():
        known = encode_keys(session, workspace_id, [f"k{i}" for i in range(10)])
    keys = [f"k{i % 14}" for i in range(40)] + ["k0", "n1"]  # k10..k13 and n1 are new
    with db.session() as session, session.begin():
        bitmap = encode_keys(session, workspace_id, keys)
        dictionary = _dictionary(session, workspace_id)
    assert list(known) == list(range(10))
    assert sorted(bitmap) == sorted(dictionary[key] for key in set(keys))
    assert len(dictionary) == 15 and sorted(dictionary.values()) == list(range(15))


@pytest.mark.parametrize("sorter", ["numpy", "database"])
def test_new_keys_get_ids_in_key_order(
    db: Database, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch, sorter: str
) -> None:
    """Keys are sorted by code point before they get IDs: by numpy, or by the database (on
    SQLite keys needing a JSON escape, on both keys too wide for numpy's table), whose order
    on PostgreSQL is the "C" collation's."""
    if sorter == "database":
        monkeypatch.setattr(sorting, "MAX_TABLE_BYTES", 0)
        monkeypatch.setattr(sorting, "MAX_UPLOAD_TABLE_BYTES", 0)
    keys = ["b", "é", "a", "Z", "🙂", "ab", "b", "键", "a b", "A"]
    escaped = ['q"uote', "back\\slash", "t\tab"]
    with db.session() as session, session.begin():
        encode_keys(session, workspace_id, keys)
        encode_keys(session, workspace_id, [*escaped, "a"])
        dictionary = _dictionary(session, workspace_id)
    first = sorted(set(keys))
    assert dictionary == {key: number for number, key in enumerate([*first, *sorted(escaped)])}


def test_an_abandoned_encoder_stores_nothing(
    db: Database, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Leaving the block mid-way (a bad line, a dropped client) waits for encoding in
    flight, so the rollback that follows removes all of it."""
    monkeypatch.setattr(SqliteStage, "RUN_KEYS", 2)
    with (
        pytest.raises(RuntimeError),
        db.session() as session,
        session.begin(),
        MemberEncoder(session, workspace_id) as encoder,
    ):
        for start in range(0, 20, 2):
            encoder.add([f"a{start}", f"a{start + 1}"])
        raise RuntimeError("the upload failed")
    with db.session() as session:
        assert _dictionary(session, workspace_id) == {}
        assert _next_id(session, workspace_id) == 0


def test_the_last_member_ids_are_refused_whole(
    db: Database, workspace_id: uuid.UUID, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A workspace past 2**32 IDs gets a 409 for the list that would overflow, after runs
    already encoded in the background: nothing of it stays, and the pooled SQLite connection
    gets its usual page cache back."""
    monkeypatch.setattr(SqliteStage, "RUN_KEYS", 2)
    with db.session() as session, session.begin():
        session.execute(
            update(Workspace).where(Workspace.id == workspace_id).values(next_member_id=MAX_ID - 5)
        )

    def page_cache(session: Session) -> object:
        if db.kind != "sqlite":
            return None
        return session.connection().exec_driver_sql("PRAGMA cache_size").scalar()

    with pytest.raises(Conflict, match="used up"), db.session() as session, session.begin():
        usual = page_cache(session)
        try:
            encode_keys(session, workspace_id, [f"k{i}" for i in range(10)])
        finally:
            assert page_cache(session) == usual
    with db.session() as session:
        assert _dictionary(session, workspace_id) == {}
        assert _next_id(session, workspace_id) == MAX_ID - 5
    with db.session() as session, session.begin():
        assert list(encode_keys(session, workspace_id, ["a", "b"])) == [MAX_ID - 5, MAX_ID - 4]


def test_storing_members_replaces_the_previous_blob(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        make_members(session, workspace_id, audience.id, ["a", "b"], evaluated_at=T0)
        latest = make_members(
            session, workspace_id, audience.id, ["b", "c"], evaluated_at=T0 + timedelta(hours=1)
        )
    db.caches.bitmaps.clear()
    with db.read() as session:
        blobs = session.scalar(select(func.count()).select_from(MemberBitmap))
        evaluation_id, bitmap = current_members(session, workspace_id, audience.id)
        assert (blobs, evaluation_id, len(bitmap)) == (1, latest.id, 2)


def test_deleting_an_audience_leaves_no_blob(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        make_members(session, workspace_id, audience.id, ["a", "b"], evaluated_at=T0)
    with db.session() as session, session.begin():
        session.execute(delete(Audience).where(Audience.id == audience.id))
    with db.read() as session:
        assert session.scalar(select(func.count()).select_from(MemberBitmap)) == 0
        assert members.current_bitmap(session, workspace_id, audience.id) is None


def test_union_cardinality_counts_distinct_members(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        a = make_audience(session, workspace_id, name="A")
        b = make_audience(session, workspace_id, name="B")
        sized = make_audience(session, workspace_id, name="Sized")
        make_members(session, workspace_id, a.id, ["x", "y"], evaluated_at=T0)
        make_members(session, workspace_id, b.id, ["y", "z"], evaluated_at=T0)
    with db.read() as session:
        assert members.union_cardinality(session, workspace_id, [a.id, b.id, sized.id]) == (
            3,
            [sized.id],
        )
        assert members.union_cardinality(session, workspace_id, []) == (0, [])


def test_apply_delta_and_change_counts() -> None:
    base = BitMap([1, 2, 3])
    new = members.apply_delta(base, BitMap([4]), BitMap([1, 9]))
    assert list(new) == [2, 3, 4]
    assert members.change_counts(base, new) == (1, 1)
    assert list(base) == [1, 2, 3]


def test_garbage_is_collected_once_a_quarter_is_unused(
    db: Database, workspace_id: uuid.UUID
) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        make_members(session, workspace_id, audience.id, list("abcdefgh"), evaluated_at=T0)
        make_members(
            session, workspace_id, audience.id, list("abcdefg"), evaluated_at=T0 + timedelta(1)
        )
        # 1 unused key of 8 is under a quarter: the dictionary stays.
        assert members.collect_garbage(session, workspace_id) == 0
        make_members(
            session, workspace_id, audience.id, list("abcde"), evaluated_at=T0 + timedelta(2)
        )
        assert members.collect_garbage(session, workspace_id) == 3
        assert sorted(_dictionary(session, workspace_id)) == list("abcde")
        # A collected key that comes back gets a fresh ID: IDs are never reused.
        assert list(encode_keys(session, workspace_id, ["h"])) == [8]


def test_the_stored_dictionary_size_follows_every_add_and_collection(
    db: Database, workspace_id: uuid.UUID
) -> None:
    """The garbage check reads the stored size instead of counting the rows: it must stay
    equal to the rows through new keys, repeats, known keys and collections."""
    lists = [list("abcdefgh"), [*"abcdefgh", "i", "i"], list("ab"), list("abxyz"), []]
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        for day, keys in enumerate(lists):
            when = T0 + timedelta(day)
            make_members(session, workspace_id, audience.id, keys, evaluated_at=when)
            members.collect_garbage(session, workspace_id)
            assert _stored_size(session, workspace_id) == len(_dictionary(session, workspace_id))
        assert _stored_size(session, workspace_id) == 0


def test_garbage_of_a_deleted_audience_is_collected(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        keep = make_audience(session, workspace_id, name="Keep")
        drop = make_audience(session, workspace_id, name="Drop")
        make_members(session, workspace_id, keep.id, ["a", "b"], evaluated_at=T0)
        make_members(session, workspace_id, drop.id, ["b", "c", "d"], evaluated_at=T0)
        session.execute(delete(Audience).where(Audience.id == drop.id))
        assert members.collect_garbage(session, workspace_id) == 2
        assert sorted(_dictionary(session, workspace_id)) == ["a", "b"]
        assert members.collect_garbage(session, workspace_id, min_dead_fraction=0) == 0


def test_cached_bitmaps_are_reused(db: Database, workspace_id: uuid.UUID) -> None:
    with db.session() as session, session.begin():
        audience = make_audience(session, workspace_id)
        make_members(session, workspace_id, audience.id, ["a", "b"], evaluated_at=T0)
    db.caches.bitmaps.clear()
    with db.read() as session:
        first = members.current_bitmap(session, workspace_id, audience.id)
        second = members.current_bitmap(session, workspace_id, audience.id)
    assert first is not None and second is not None and first[1] is second[1]


def test_cache_evicts_least_recently_used_past_its_byte_bound() -> None:
    cache = BitmapCache(max_bytes=100)
    keys = [(uuid.uuid4(), uuid.uuid4()) for _ in range(4)]
    bitmaps = [members.FrozenBitMap([i]) for i in range(4)]
    cache.put(keys[0], bitmaps[0], 40)
    cache.put(keys[1], bitmaps[1], 40)
    assert cache.get(keys[0]) is bitmaps[0]  # now the most recently used
    cache.put(keys[2], bitmaps[2], 40)
    assert (cache.get(keys[1]), cache.bytes, len(cache)) == (None, 80, 2)
    cache.put(keys[3], bitmaps[3], 101)  # bigger than the whole cache: not kept
    assert cache.get(keys[3]) is None and cache.get(keys[0]) is bitmaps[0]
