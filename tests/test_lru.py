"""The bounded dictionary behind the process caches counted in entries."""

from __future__ import annotations

from insights.lru import LruDict


def test_a_write_beyond_the_bound_drops_the_least_recently_used() -> None:
    cache: LruDict[str, int] = LruDict(2)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recently used
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c"), len(cache)) == (1, None, 3, 2)


def test_a_rewrite_replaces_the_value_and_keeps_the_bound() -> None:
    cache: LruDict[str, int] = LruDict(2)
    for value in range(5):
        cache.put("a", value)
    assert (cache.get("a"), len(cache)) == (4, 1)
    cache.pop("a")
    cache.pop("never there")
    assert (cache.get("a"), len(cache)) == (None, 0)
    cache.put("b", 1)
    cache.clear()
    assert len(cache) == 0
