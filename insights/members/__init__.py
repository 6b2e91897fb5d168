"""Audience members at scale: the workspace's key -> dense ID dictionary, roaring bitmaps of
each audience's current members, their storage, reads and cache, and the streaming upload's
parser. The only package that imports pyroaring; this module is its public face."""

from insights.members.bitmaps import (
    AbstractBitMap,
    BitMap,
    FrozenBitMap,
    Members,
    apply_delta,
    bitmap_from_ids,
    change_counts,
    union,
)
from insights.members.cache import (
    MEMBER_CACHES,
    BitmapCache,
    CountCache,
    MemberCaches,
    caches_of,
    session_info,
)
from insights.members.dictionary import MAX_MEMBER_ID, lock_members
from insights.members.encoder import MemberEncoder, encode_keys
from insights.members.garbage import GC_DEAD_FRACTION, collect_garbage
from insights.members.keys import MAX_KEY_LENGTH, member_key_problem
from insights.members.memory import release_freed_memory
from insights.members.reads import PARALLEL_READS, ParallelReads, parallel_reads
from insights.members.spool import KeySpool
from insights.members.storage import (
    current_bitmap,
    current_bitmaps,
    current_evaluations,
    load_bitmaps,
    store_bitmap,
    union_cardinality,
)
from insights.members.upload import NDJSON, TEXT, KeyParser, media_type

__all__ = [
    "GC_DEAD_FRACTION",
    "MAX_KEY_LENGTH",
    "MAX_MEMBER_ID",
    "MEMBER_CACHES",
    "NDJSON",
    "PARALLEL_READS",
    "TEXT",
    "AbstractBitMap",
    "BitMap",
    "BitmapCache",
    "CountCache",
    "FrozenBitMap",
    "KeyParser",
    "KeySpool",
    "MemberCaches",
    "MemberEncoder",
    "Members",
    "ParallelReads",
    "apply_delta",
    "bitmap_from_ids",
    "caches_of",
    "change_counts",
    "collect_garbage",
    "current_bitmap",
    "current_bitmaps",
    "current_evaluations",
    "encode_keys",
    "load_bitmaps",
    "lock_members",
    "media_type",
    "member_key_problem",
    "parallel_reads",
    "release_freed_memory",
    "session_info",
    "store_bitmap",
    "union",
    "union_cardinality",
]
