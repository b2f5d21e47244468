"""`memo.once`: one read per scope, a read every time outside one."""

from referral_platform.core import memo


def test_inside_a_scope_a_read_is_made_once_and_outside_every_time():
    reads = []

    def read():
        reads.append(1)
        return len(reads)

    assert [memo.once("k", read), memo.once("k", read)] == [1, 2]
    with memo.memo_scope():
        assert [memo.once("k", read), memo.once("k", read), memo.once("j", read)] == [3, 3, 4]
        with memo.memo_scope():
            assert memo.once("k", read) == 5  # a scope of its own starts empty
        assert memo.once("k", read) == 3
    assert memo.once("k", read) == 6
