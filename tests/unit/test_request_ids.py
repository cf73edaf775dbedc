"""Request ids: 32 hex digits, never repeated, not even across a fork."""

from __future__ import annotations

import os

from app.request_ids import RequestIds, request_ids


def test_ids_are_128_bit_hex_and_unique_across_refills() -> None:
    ids = RequestIds()
    drawn = [ids.next() for _ in range(1000)]  # ~4 pools of 256
    assert all(len(i) == 32 and int(i, 16) >= 0 for i in drawn)
    assert len(set(drawn)) == len(drawn)


def test_a_forked_child_does_not_hand_out_its_parents_next_ids() -> None:
    request_ids.next()  # the parent has a pool with unused bytes
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child process
        os.write(writer, request_ids.next().encode())
        os._exit(0)
    os.close(writer)
    os.waitpid(child, 0)
    childs_id = os.read(reader, 64).decode()
    os.close(reader)
    assert childs_id != request_ids.next()
