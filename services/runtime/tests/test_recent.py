"""RecentSaves: a reader takes the unbroken run after its position, and nothing else."""

from changeledger.runtime.recent import RecentSaves


def following(limit: int = 100) -> RecentSaves[str]:
    saves: RecentSaves[str] = RecentSaves(limit)
    saves.follow()
    return saves


def test_the_run_after_a_position_is_taken_once_and_stops_at_a_gap() -> None:
    saves = following()
    saves.add([(3, "c"), (4, "d")])
    saves.add([(6, "f")])  # 5 was saved by another process

    assert saves.take_after(2) == [(3, "c"), (4, "d")]
    assert saves.take_after(4) == []
    assert saves.gap_after(4) == 5  # 6 is kept, after the gap
    assert saves.take_after(5) == [(6, "f")]


def test_what_the_reader_read_from_the_store_is_dropped() -> None:
    saves = following()
    saves.add([(1, "a"), (2, "b"), (3, "c")])

    assert saves.take_after(2) == [(3, "c")]
    assert saves.gap_after(0) is None


def test_a_run_is_taken_in_parts_of_at_most_most() -> None:
    saves = following()
    saves.add([(1, "a"), (2, "b"), (3, "c")])

    assert saves.take_after(0, most=2) == [(1, "a"), (2, "b")]
    assert saves.take_after(2, most=2) == [(3, "c")]


def test_nothing_is_kept_unless_following_nor_beyond_the_limit() -> None:
    saves: RecentSaves[str] = RecentSaves(2)
    assert saves.add([(1, "a")])  # nobody follows: nothing to find in the store
    assert saves.gap_after(0) is None

    saves.follow()
    assert saves.add([(1, "a"), (2, "b")])
    assert not saves.add([(3, "c")])  # beyond the limit: the store has it
    assert saves.take_after(0) == [(1, "a"), (2, "b")]

    saves.add([(3, "c")])
    saves.stop()
    assert saves.gap_after(0) is None


def test_the_gap_ahead_ends_before_the_next_save_kept() -> None:
    saves = following()
    saves.add([(2, "b"), (5, "e")])  # 3 and 4 were saved by another process

    assert saves.gap_after(1) == 1  # no gap: 2 follows at once
    assert saves.gap_after(2) == 4  # dropped 2, which the reader has read
    assert saves.gap_after(5) is None
    assert saves.gap_after(0) is None
