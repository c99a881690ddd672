"""Disclosure control: no figure about a group lets a reader work out something about fewer than
the minimum number of people (the staff council's rule; `LMS_MIN_GROUP_SIZE`, at least 5).

Every group figure leaves its domain through this module, in the way the German statistical
offices protect confidential tables:

- **Primary suppression**: a group with more than none and fewer than `minimum` people shows no
  figure.
- **Complementary (secondary) suppression**: what a reader can see together — every cell of a
  page, in all its filter settings and in its export — is one system of sums. If any combination
  of the shown cells (parent minus children, total minus rows, a department minus a job role …)
  equals a group of more than none and fewer than `minimum` people, a further cell is withheld,
  until no such combination is left. `protect` decides this exactly, by linear algebra over the
  groups' members: a set of people can be worked out from the shown cells exactly when its
  indicator lies in the span of theirs.
- **Bands**: a shown share of a group under `exact_from` people (`LMS_EXACT_SHARE_FROM`, 20 by
  default) is given as a quarter ("under 25 %", …, "75 % or more"), never as 0 % or 100 %, which
  would tell every member's status.

Pure functions over ids (no database, no request), and the three settings they follow as the
town configured them (`min_group_size`, `exact_share_from`, `survey_min_group_size`).
"""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Hashable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from enum import StrEnum
from itertools import combinations

from flask import current_app


def min_group_size() -> int:
    """LMS_MIN_GROUP_SIZE: fewer people than this show no figure."""
    return int(current_app.config["PRIVACY_MIN_GROUP_SIZE"])


def exact_share_from() -> int:
    """LMS_EXACT_SHARE_FROM: a share of fewer people than this is shown as a band."""
    return int(current_app.config["PRIVACY_EXACT_SHARE_FROM"])


def survey_min_group_size() -> int:
    """LMS_SURVEY_MIN_GROUP_SIZE: fewer answers to a pulse survey than this show no figure."""
    return int(current_app.config["PRIVACY_SURVEY_MIN_GROUP_SIZE"])


PRIME = (1 << 61) - 1  # arithmetic modulo a large prime: exact for all practical purposes, and fast
BANDS = 4  # quarters


@dataclass(frozen=True)
class Cell:
    """One figure a reader could see: `key` names it, `members` are the people it counts."""

    key: Hashable
    members: frozenset[int]
    keep: bool = False  # a total: withheld only when nothing else protects the small groups


class ShareState(StrEnum):
    EMPTY = "empty"  # nobody in the group: shown as "–"
    SMALL = "small"  # primary suppression: "fewer than N"
    WITHHELD = "withheld"  # complementary suppression: not shown, so that small groups stay hidden
    BAND = "band"  # a quarter, not the exact share
    EXACT = "exact"


@dataclass(frozen=True)
class Share:
    """`part` of `whole` people, as it may be shown. Counts are only readable when `exact`."""

    part: int
    whole: int
    state: ShareState

    @property
    def shown(self) -> bool:
        return self.state in (ShareState.BAND, ShareState.EXACT)

    @property
    def exact(self) -> bool:
        return self.state == ShareState.EXACT

    @property
    def percent(self) -> int | None:
        """Whole percent, rounded down (100 only when everyone): only for exact shares."""
        return self.part * 100 // self.whole if self.exact else None

    @property
    def band(self) -> int | None:
        """0–3: under 25 %, 25 to under 50 %, 50 to under 75 %, 75 % or more."""
        if not self.shown:
            return None
        return min(self.part * BANDS // self.whole, BANDS - 1)


def share(part: int, whole: int, minimum: int, exact_from: int, withheld: bool = False) -> Share:
    """How `part` of `whole` people may be shown."""
    if withheld:
        return Share(part, whole, ShareState.WITHHELD)
    if whole == 0:
        return Share(0, 0, ShareState.EMPTY)
    if whole < minimum:
        return Share(part, whole, ShareState.SMALL)
    return Share(part, whole, ShareState.BAND if whole < exact_from else ShareState.EXACT)


def count_shown(count: int, minimum: int) -> bool:
    """May a bare head count be shown (none, or at least the minimum)?"""
    return count == 0 or count >= minimum


def apart_enough(counts: Sequence[int | None], minimum: int, fixed: Iterable[int] = ()) -> list[bool]:
    """Which figures of one group over time may be shown (month against month): the head counts of
    any two shown figures — and of each against the `fixed` ones, such as today's — differ by none
    or by at least `minimum`; else their difference would be about those few people. The newest
    are kept first. `None` (nothing to show) stays hidden."""
    shown = list(fixed)
    keep = [False] * len(counts)
    for index in reversed(range(len(counts))):
        count = counts[index]
        if count is not None and all(count == other or abs(count - other) >= minimum for other in shown):
            keep[index] = True
            shown.append(count)
    return keep


# --- complementary suppression ----------------------------------------------------------------


def protect(cells: Iterable[Cell], minimum: int) -> set[Hashable]:
    """The keys of the cells that must not be shown: the small ones, and as few others as needed so
    that no combination of the shown ones equals a group of 1 to `minimum - 1` people.

    Cells that would have to go are chosen smallest first, and totals (`keep`) last, so that the
    large totals stay visible."""
    cells = list(cells)
    small = {cell.key for cell in cells if 0 < len(cell.members) < minimum}
    withheld = set(small)
    while True:
        shown = [cell for cell in cells if cell.key not in withheld and cell.members]
        found = small_group_derivable([cell.members for cell in shown], minimum)
        if found is None:
            break
        withheld.add(_cell_to_withhold(shown, found).key)
    # Choosing one cell at a time can withhold one that a later choice made unnecessary: give back,
    # largest first, every cell whose return lets nothing small be worked out.
    for cell in sorted(cells, key=lambda cell: (-len(cell.members), str(cell.key))):
        if cell.key in withheld and cell.key not in small:
            trial = [other.members for other in cells if other.members and (other is cell or other.key not in withheld)]
            if small_group_derivable(trial, minimum) is None:
                withheld.discard(cell.key)
    return withheld


def _cell_to_withhold(shown: list[Cell], found: frozenset[int]) -> Cell:
    """One of the cells the subtraction giving `found` uses: the smallest, totals last."""
    ordered = sorted(shown, key=lambda cell: (cell.keep, len(cell.members), str(cell.key)))
    weights = _combination([cell.members for cell in ordered], found)
    return next(cell for cell, weight in zip(ordered, weights, strict=True) if weight)


def _combination(groups: Sequence[frozenset[int]], target: frozenset[int]) -> list[int]:
    """Weights (mod PRIME) with which `groups` add up to `target`, using the earliest groups first."""
    people = sorted(set(target).union(*groups))
    row_of = {person: index for index, person in enumerate(people)}
    # One equation per person: the weights of the groups holding them add up to 1 if in target.
    equations = [[0] * (len(groups) + 1) for _ in people]
    for column, members in enumerate(groups):
        for person in members:
            equations[row_of[person]][column] = 1
    for person in target:
        equations[row_of[person]][-1] = 1
    reduced, pivots = _reduced(equations, len(groups))
    weights = [0] * len(groups)
    for row, pivot in zip(reduced, pivots, strict=True):
        weights[pivot] = row[-1]
    return weights


def small_group_derivable(shown: Sequence[frozenset[int]], minimum: int) -> frozenset[int] | None:
    """A set of 1 to `minimum - 1` people that some combination of the `shown` groups equals, or None.

    People fall into *atoms*: those who belong to the same shown groups. A derivable set is a union
    of atoms; only atoms of fewer than `minimum` people can be part of a small one. A union lies in
    the span exactly when the atoms' images under the span's complement add up to zero; this is
    searched from both ends (meet in the middle), so it stays fast for hundreds of atoms."""
    if minimum <= 1 or not shown:
        return None
    atoms = _atoms(shown)
    images = _complement_images(shown, atoms)
    small = [index for index, atom in enumerate(atoms) if len(atom) < minimum]
    key = _hash_key(images, small)
    halves: dict[int, list[tuple[int, ...]]] = defaultdict(list)
    for subset in _subsets(small, atoms, minimum - 1, max_atoms=(minimum - 1 + 1) // 2 or 1):
        halves[sum(key[i] for i in subset) % PRIME].append(subset)
    for total, subsets in halves.items():
        for subset in subsets:
            for other in halves.get((-total) % PRIME, ()) if total else [()]:
                union = set(subset) | set(other)
                if len(union) != len(subset) + len(other) or not union:
                    continue
                people = frozenset().union(*(atoms[i] for i in union))
                if 0 < len(people) < minimum and _in_span(shown, people):
                    return people
    return None


def _atoms(shown: Sequence[frozenset[int]]) -> list[frozenset[int]]:
    """People grouped by the shown groups they belong to (those in none left out)."""
    signature: dict[int, list[int]] = defaultdict(list)
    for index, members in enumerate(shown):
        for person in members:
            signature[person].append(index)
    atoms: dict[tuple[int, ...], set[int]] = defaultdict(set)
    for person, groups in signature.items():
        atoms[tuple(groups)].add(person)
    return [frozenset(people) for _, people in sorted(atoms.items())]


def _rows(shown: Sequence[frozenset[int]], atoms: list[frozenset[int]]) -> list[list[int]]:
    """Each shown group as a 0/1 row over the atoms (a group holds an atom wholly or not at all)."""
    first = {min(atom): index for index, atom in enumerate(atoms)}
    rows = []
    for members in shown:
        row = [0] * len(atoms)
        for person in members:
            index = first.get(person)
            if index is not None:
                row[index] = 1
        rows.append(row)
    return rows


def _reduced(rows: list[list[int]], width: int) -> tuple[list[list[int]], list[int]]:
    """Reduced row echelon form modulo PRIME, and the pivot column of each row."""
    matrix = [row[:] for row in rows]
    pivots: list[int] = []
    rank = 0
    for column in range(width):
        pivot = next((r for r in range(rank, len(matrix)) if matrix[r][column] % PRIME), None)
        if pivot is None:
            continue
        matrix[rank], matrix[pivot] = matrix[pivot], matrix[rank]
        inverse = pow(matrix[rank][column], PRIME - 2, PRIME)
        matrix[rank] = [value * inverse % PRIME for value in matrix[rank]]
        for r in range(len(matrix)):
            factor = matrix[r][column]
            if r != rank and factor:
                matrix[r] = [(a - factor * b) % PRIME for a, b in zip(matrix[r], matrix[rank], strict=True)]
        pivots.append(column)
        rank += 1
        if rank == len(matrix):
            break
    return matrix[:rank], pivots


def _complement_images(shown: Sequence[frozenset[int]], atoms: list[frozenset[int]]) -> list[dict[int, int]]:
    """Per atom a sparse vector over the free columns: a union of atoms is in the span of the shown
    groups exactly when its atoms' vectors add up to zero."""
    reduced, pivots = _reduced(_rows(shown, atoms), len(atoms))
    pivot_set = set(pivots)
    images: list[dict[int, int]] = [{} for _ in atoms]
    for column in range(len(atoms)):
        if column not in pivot_set:
            images[column][column] = 1
    for row, pivot in zip(reduced, pivots, strict=True):
        images[pivot] = {column: (-value) % PRIME for column, value in enumerate(row) if value and column != pivot}
    return images


def _hash_key(images: list[dict[int, int]], indices: list[int]) -> dict[int, int]:
    """Each atom's vector folded into one number by a random linear form (checked exactly later)."""
    generator = random.Random(len(images))
    weights: dict[int, int] = defaultdict(lambda: generator.randrange(1, PRIME))
    return {i: sum(weights[column] * value for column, value in sorted(images[i].items())) % PRIME for i in indices}


def _subsets(
    candidates: list[int], atoms: list[frozenset[int]], max_people: int, max_atoms: int
) -> Iterator[tuple[int, ...]]:
    """Every set of up to `max_atoms` candidate atoms with at most `max_people` people, the empty one too."""
    yield ()
    for size in range(1, max_atoms + 1):
        for subset in combinations(candidates, size):
            if sum(len(atoms[i]) for i in subset) <= max_people:
                yield subset


def _in_span(groups: Sequence[frozenset[int]], target: frozenset[int]) -> bool:
    """Is `target` (a set of people) a combination of `groups`? Exact, over the people themselves."""
    people = sorted(set(target).union(*groups)) if groups else sorted(target)
    column = {person: index for index, person in enumerate(people)}

    def row_of(members: frozenset[int]) -> list[int]:
        row = [0] * len(people)
        for person in members:
            row[column[person]] = 1
        return row

    reduced, pivots = _reduced([row_of(members) for members in groups], len(people))
    rest = row_of(target)
    for row, pivot in zip(reduced, pivots, strict=True):
        factor = rest[pivot]
        if factor:
            rest = [(a - factor * b) % PRIME for a, b in zip(rest, row, strict=True)]
    return not any(rest)
