"""The holdout's membership (SEMANTICS §10): a stable hash of the spec's seed and the
participant id, about its share of participants, nobody without a `holdout` section."""

from types import SimpleNamespace

from programs.holdout import assigned, held_out_programs, holdout_members, in_holdout


def program(pk=1, holdout=None):
    spec = {"slug": "p"} if holdout is None else {"slug": "p", "holdout": holdout}
    return SimpleNamespace(pk=pk, spec=spec)


def test_the_holdout_keeps_about_its_share_out_and_is_stable():
    prog = program(holdout={"percent": 5})
    held = holdout_members(prog, range(1, 20001))
    assert abs(len(held) / 20000 - 0.05) < 0.01
    assert all(in_holdout(prog, pid) for pid in list(held)[:50])
    # Without a seed the program's own keeps the assignment: the same as `program:<id>`.
    assert held == {pid for pid in range(1, 20001) if assigned("program:1", pid, 500)}


def test_a_share_with_decimals_counts_in_basis_points_and_the_seed_changes_who():
    a = holdout_members(program(holdout={"percent": 12.5, "seed": "a"}), range(1, 20001))
    b = holdout_members(program(holdout={"percent": 12.5, "seed": "b"}), range(1, 20001))
    assert abs(len(a) / 20000 - 0.125) < 0.01
    assert a != b and a == {pid for pid in range(1, 20001) if assigned("a", pid, 1250)}


def test_no_holdout_or_zero_holds_nobody_out():
    for prog in (program(), program(holdout={"percent": 0})):
        assert holdout_members(prog, range(1, 1000)) == set()
        assert not in_holdout(prog, 42)


def test_held_out_programs_names_the_programs_that_hold_this_participant_out():
    everyone, nobody = program(1, {"percent": 50}), program(2)
    pid = next(p for p in range(1, 100) if in_holdout(everyone, p))
    assert held_out_programs([everyone, nobody], pid) == {1}
