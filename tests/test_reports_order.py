"""The contract's order of named things (name, then ID as written) without writing IDs."""

from __future__ import annotations

import random
import uuid

from insights.reports.common import name_key


def test_ordering_by_the_id_itself_is_ordering_by_its_text() -> None:
    rng = random.Random(5)
    things = [
        (rng.choice(["A", "B", "b", "É"]), uuid.UUID(int=rng.getrandbits(128)))
        for _ in range(5_000)
    ]
    by_key = sorted(things, key=lambda thing: name_key(*thing))
    by_text = sorted(things, key=lambda thing: (thing[0], str(thing[1])))
    assert by_key == by_text
