"""Disclosure control (lms/common/disclosure.py): how a share may be shown, and which cells a table
must withhold so that no subtraction gives a group under the minimum."""

from __future__ import annotations

import pytest

from lms.common import disclosure
from lms.common.disclosure import Cell, ShareState

pytestmark = pytest.mark.database_free


def people(start: int, count: int) -> frozenset[int]:
    return frozenset(range(start, start + count))


def flat(sizes: list[int]) -> set:
    """Rows that split a total: which rows (by index) and whether the total are withheld."""
    cells, start = [], 0
    for index, size in enumerate(sizes):
        cells.append(Cell(index, people(start, size)))
        start += size
    cells.append(Cell("total", people(0, start), keep=True))
    return disclosure.protect(cells, 5)


@pytest.mark.parametrize(
    "sizes, withheld",
    [
        ([10, 7, 6], set()),
        ([10, 7, 3], {1, 2}),  # the 3 could be worked out from the total: the 7 goes too
        ([10, 3, 2], {1, 2}),  # 3 + 2 = 5 hidden together: enough
        ([10, 4], {0, 1}),
        ([3], {0, "total"}),  # the total is the same three people
        ([5], set()),
        ([0, 9], set()),  # an empty row tells nothing
    ],
)
def test_rows_and_their_total(sizes, withheld):
    assert flat(sizes) == withheld


def test_the_issues_example_parent_minus_children():
    """FB3 (24 people) with 32.1 (14) and 33.1 (8): two people sit in FB3 itself."""
    fb3, ordnungsamt, buergerbuero = people(0, 24), people(0, 14), people(14, 8)
    shown = [fb3, ordnungsamt, buergerbuero]
    assert disclosure.small_group_derivable(shown, 5) == people(22, 2)
    cells = [Cell("FB3", fb3), Cell("32.1", ordnungsamt), Cell("33.1", buergerbuero)]
    withheld = disclosure.protect(cells, 5)
    assert withheld == {"33.1"}  # the smallest that breaks the subtraction
    left = [cell.members for cell in cells if cell.key not in withheld]
    assert disclosure.small_group_derivable(left, 5) is None


def test_a_total_is_withheld_last():
    """All (12) = A (4, small) + B (8); B alone would give A. B goes, not the total."""
    cells = [Cell("all", people(0, 12), keep=True), Cell("A", people(0, 4)), Cell("B", people(4, 8))]
    assert disclosure.protect(cells, 5) == {"A", "B"}


def test_crossed_groups_department_minus_job_role():
    """A department of 7, five of them in a job role that exists nowhere else: 7 − 5 = 2."""
    department, role = people(0, 7), people(0, 5)
    assert disclosure.small_group_derivable([department, role], 5) == people(5, 2)
    withheld = disclosure.protect([Cell("department", department), Cell("role", role)], 5)
    assert withheld == {"role"}


def test_larger_minimum_and_unions_of_several_small_groups():
    # Four atoms of one person each; only their union (4) is derivable: 10 − 6.
    ten, six = people(0, 10), people(0, 6)
    assert disclosure.small_group_derivable([ten, six], 5) == people(6, 4)
    assert disclosure.small_group_derivable([ten, six], 4) is None  # four are enough then
    # With a minimum of ten, the three and the seven left of the ten are both too small.
    assert disclosure.small_group_derivable([ten, people(0, 3)], 10) in {people(0, 3), people(3, 7)}


@pytest.mark.parametrize(
    "part, whole, withheld, state, percent, band",
    [
        (0, 0, False, ShareState.EMPTY, None, None),
        (2, 4, False, ShareState.SMALL, None, None),
        (0, 8, False, ShareState.BAND, None, 0),  # never "0 %" for a small group
        (8, 8, False, ShareState.BAND, None, 3),  # never "100 %"
        (4, 8, False, ShareState.BAND, None, 2),
        (10, 20, False, ShareState.EXACT, 50, 2),
        (20, 20, False, ShareState.EXACT, 100, 3),
        (10, 40, True, ShareState.WITHHELD, None, None),
    ],
)
def test_how_a_share_may_be_shown(part, whole, withheld, state, percent, band):
    shown = disclosure.share(part, whole, 5, 20, withheld)
    assert (shown.state, shown.percent, shown.band) == (state, percent, band)


def test_figures_over_time_stay_apart_by_the_minimum():
    # Any two shown must be apart by 0 or at least 5: 11 (the newest) is kept, 15 and 10 are too close.
    assert disclosure.apart_enough([10, 15, 11], 5) == [False, False, True]
    assert disclosure.apart_enough([10, 15, 20], 5) == [True, True, True]
    assert disclosure.apart_enough([10, 10, None, 12], 5) == [False, False, False, True]
    # Today's figure (shown on the same page) counts too: 12 today hides a month of 10.
    assert disclosure.apart_enough([10, 17], 5, fixed=(12,)) == [False, True]
