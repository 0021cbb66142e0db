"""RFC 9162 (Certificate Transparency v2) Merkle tree hashes and inclusion proofs, pure.

Leaves are hashed as ``sha256(0x00 || data)`` and interior nodes as ``sha256(0x01 || left ||
right)``; the tree over ``n`` leaves splits at the largest power of two below ``n`` (RFC 9162
§2.1.1), which is the same as pairing nodes level by level and carrying an unpaired last node up
unchanged. Hashes are raw 32-byte ``bytes``; :func:`verify_inclusion` is the algorithm of §2.1.3.2,
so a third party can check a proof with any RFC 9162 implementation.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(data: bytes) -> bytes:
    """``sha256(0x00 || data)``: the hash of one leaf (32 bytes)."""
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """``sha256(0x01 || left || right)``: the hash of an interior node (32 bytes)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def tree_levels(leaves: Sequence[bytes]) -> list[list[bytes]]:
    """Every level of the tree over ``leaves`` (leaf hashes), from the leaves up to the root.

    Returns:
        ``levels[0]`` is ``leaves``; ``levels[-1]`` is ``[root]``. Empty input gives ``[[]]``.
    """
    levels = [list(leaves)]
    while len(levels[-1]) > 1:
        below = levels[-1]
        above = [node_hash(below[i], below[i + 1]) for i in range(0, len(below) - 1, 2)]
        if len(below) % 2:
            above.append(below[-1])
        levels.append(above)
    return levels


def root_of(levels: list[list[bytes]]) -> bytes:
    """The root of the levels :func:`tree_levels` built (``EMPTY_ROOT`` for no leaves)."""
    return levels[-1][0] if levels[-1] else EMPTY_ROOT


def merkle_root(leaves: Sequence[bytes]) -> bytes:
    """The Merkle tree hash over ``leaves`` (leaf hashes, in order)."""
    return root_of(tree_levels(leaves))


def inclusion_path(levels: list[list[bytes]], index: int) -> list[bytes]:
    """The audit path of leaf ``index`` (0-based) in the tree given by :func:`tree_levels`.

    Raises:
        IndexError: ``index`` is not a leaf of the tree.
    """
    if not 0 <= index < len(levels[0]):
        raise IndexError(f"leaf {index} is not in a tree of {len(levels[0])} leaves")
    path = []
    for level in levels[:-1]:
        sibling = index ^ 1
        if sibling < len(level):
            path.append(level[sibling])
        index //= 2
    return path


def verify_inclusion(leaf: bytes, index: int, tree_size: int, path: Sequence[bytes], root: bytes) -> bool:
    """Whether ``path`` proves ``leaf`` (a leaf hash) is leaf ``index`` of the tree ``root`` of ``tree_size``.

    RFC 9162 §2.1.3.2, step by step.
    """
    if index >= tree_size or index < 0:
        return False
    fn, sn, r = index, tree_size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn >>= 1
                sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    return sn == 0 and r == root
