"""Click ids: unique, sortable, and never repeated by a forked web worker."""

from __future__ import annotations

import os

from referral_platform.core import identity


def test_ulids_are_unique_and_sort_by_time():
    ids = [identity.new_ulid(1_700_000_000_000 + i // 100) for i in range(2000)]
    assert len(set(ids)) == 2000
    assert all(identity.is_ulid(i) for i in ids)
    assert [i[:10] for i in ids] == sorted(i[:10] for i in ids)


def test_a_ulid_is_its_time_and_random_bits_in_crockford_base32_most_significant_first(
    monkeypatch,
):
    for random_bits in (0, 1, 2**80 - 1, 0x0123456789ABCDEF0123):
        monkeypatch.setattr(identity, "_urandom10", lambda r=random_bits: r.to_bytes(10, "big"))
        for ms in (0, 1, 1_700_000_000_000, 2**48 - 1):
            value, digits = (ms << 80) | random_bits, []
            for _ in range(26):
                value, digit = divmod(value, 32)
                digits.append("0123456789ABCDEFGHJKMNPQRSTVWXYZ"[digit])
            assert identity.new_ulid(ms) == "".join(reversed(digits))


def test_a_forked_child_never_reuses_the_random_bytes_its_parent_drew():
    identity.new_ulid()  # the parent has a pool of random bytes now
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: the same millisecond, its own randomness
        os.write(write, identity.new_ulid(1_700_000_000_000).encode())
        os._exit(0)
    os.waitpid(pid, 0)
    child = os.read(read, 26).decode()
    assert child != identity.new_ulid(1_700_000_000_000)
