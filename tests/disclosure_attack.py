"""An attacker on figures about groups, written apart from lms.common.disclosure on purpose.

The attacker knows who belongs to which group (in a town hall the organisation chart is no
secret) and reads every figure a page or export shows. A figure counts people of a group, so any
sum or difference of shown figures counts the people of the same sum or difference of groups. The
attacker wins when such a combination is a set of 1 to `minimum - 1` people: then the figures tell
how those few stand.

Exact rational arithmetic and an exhaustive search over unions of *atoms* (people who belong to
the same shown groups): slow but plain, for the small towns of the tests.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator
from fractions import Fraction


def atoms_of(groups: list[frozenset[int]]) -> list[frozenset[int]]:
    belongs: dict[int, set[int]] = defaultdict(set)
    for index, members in enumerate(groups):
        for person in members:
            belongs[person].add(index)
    by_signature: dict[frozenset[int], set[int]] = defaultdict(set)
    for person, indices in belongs.items():
        by_signature[frozenset(indices)].add(person)
    return [frozenset(people) for people in by_signature.values()]


def _echelon(rows: list[list[Fraction]]) -> list[tuple[int, list[Fraction]]]:
    """Rows in reduced echelon form, each with its pivot column."""
    reduced: list[tuple[int, list[Fraction]]] = []
    for row in rows:
        row = row[:]
        for pivot, base in reduced:
            if row[pivot]:
                factor = row[pivot]
                row = [a - factor * b for a, b in zip(row, base, strict=True)]
        pivot = next((i for i, value in enumerate(row) if value), None)
        if pivot is None:
            continue
        row = [value / row[pivot] for value in row]
        reduced = [(p, [a - b[pivot] * c for a, c in zip(b, row, strict=True)] if b[pivot] else b) for p, b in reduced]
        reduced.append((pivot, row))
    return reduced


def small_sets(groups: Iterable[frozenset[int]], minimum: int) -> list[frozenset[int]]:
    """Every union of atoms with 1 to minimum - 1 people that a combination of `groups` equals."""
    groups = [g for g in groups if g]
    if not groups:
        return []
    atoms = atoms_of(groups)
    rows = [[Fraction(int(atom <= group)) for atom in atoms] for group in groups]
    basis = _echelon(rows)

    def residual(vector: list[Fraction]) -> list[Fraction]:
        for pivot, base in basis:
            if vector[pivot]:
                factor = vector[pivot]
                vector = [a - factor * b for a, b in zip(vector, base, strict=True)]
        return vector

    unit = [residual([Fraction(int(i == j)) for j in range(len(atoms))]) for i in range(len(atoms))]
    small = [i for i, atom in enumerate(atoms) if len(atom) < minimum]
    found = []

    def search(start: int, chosen: list[int], size: int, total: list[Fraction]) -> Iterator[list[int]]:
        if chosen and not any(total):
            yield chosen
        for position in range(start, len(small)):
            index = small[position]
            if size + len(atoms[index]) < minimum:
                extended = [a + b for a, b in zip(total, unit[index], strict=True)]
                yield from search(position + 1, [*chosen, index], size + len(atoms[index]), extended)

    for chosen in search(0, [], 0, [Fraction(0)] * len(atoms)):
        found.append(frozenset().union(*(atoms[i] for i in chosen)))
    return found


# --- reading what pages show ----------------------------------------------------------------------


def gap_cells(html: str) -> dict[tuple[str, int], dict[str, str]]:
    """(scope, id) of each row → competence code → "shown", "empty" or "hidden"."""
    rows: dict[tuple[str, int], dict[str, str]] = {}
    table = html.split('id="gap-map"')[1].split("</table>")[0]
    for scope, scope_id, body in re.findall(r'<tr[^>]*id="gap-row-(\w+)-(\d+)">(.*?)</tr>', table, re.S):
        cells = {}
        pattern = r'<td class="kern-table__cell gap-cell ([\w -]+)" data-competence="([\d.]+)"'
        for classes, code in re.findall(pattern, body):
            cells[code] = "empty" if "gap-none" in classes else "hidden" if "gap-suppressed" in classes else "shown"
        rows[(scope, int(scope_id))] = cells
    return rows
