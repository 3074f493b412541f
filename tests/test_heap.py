import gc

from inspector import heap


def test_settle_freezes_what_exists_and_collects_the_young_less_often():
    before = gc.get_threshold()
    try:
        kept = [[i] for i in range(1000)]
        heap.settle()
        assert gc.get_freeze_count() >= 1000
        assert gc.get_threshold() == (heap.YOUNG_THRESHOLD, before[1], before[2])
        # A cycle made afterwards is still collected.
        cycle = []
        cycle.append(cycle)
        del cycle
        assert gc.collect() >= 1
        del kept
    finally:
        gc.unfreeze()
        gc.set_threshold(*before)
