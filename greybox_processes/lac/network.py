"""The reaction network of the stochastic lac operon: species, reactions and their tables.

Shared by the kernel (:mod:`.kernel`: propensities, exact SSA) and the leap of its fast
reactions (:mod:`.sampling`). Every reaction consumes at most one molecule and makes at most
one; catalysts enter the propensities only.
"""
from __future__ import annotations

import numpy as np

__all__ = ["SPECIES", "REPORTED_SPECIES", "REACTIONS", "CHANGE", "CONSUMED", "PRODUCED",
           "SOURCES", "LEAP_LEVELS", "LEAP_ROUTES"]

#: Species of the ``cells/lac`` store, in order (molecule counts per cell). The first five are
#: the store contract read by other processes: lac mRNA (YM's M), beta-galactosidase LacZ
#: (B), permease LacY (P), allolactose (A) and intracellular lactose (L). The last three are
#: YM's delay intermediates (I1, I2, I3): transcripts and peptides still being made.
SPECIES = ("mrna", "lacZ", "lacY", "allolactose", "lactose_in",
           "mrna_nascent", "lacZ_nascent", "lacY_nascent")
#: The contract's species (the first five of :data:`SPECIES`).
REPORTED_SPECIES = SPECIES[:5]
M, B, P, A, L, I1, I2, I3 = range(len(SPECIES))

#: Reactions: ``(name, consumed species or None, produced species or None)``.
REACTIONS = (
    ("basal_transcription", None, "mrna"),
    ("transcription", None, "mrna_nascent"),
    ("mrna_completion", "mrna_nascent", "mrna"),
    ("mrna_decay", "mrna", None),
    ("lacZ_translation", None, "lacZ_nascent"),
    ("lacZ_maturation", "lacZ_nascent", "lacZ"),
    ("lacZ_decay", "lacZ", None),
    ("lacY_translation", None, "lacY_nascent"),
    ("lacY_maturation", "lacY_nascent", "lacY"),
    ("lacY_decay", "lacY", None),
    ("lactose_import", None, "lactose_in"),
    ("lactose_efflux", "lactose_in", None),
    ("allolactose_synthesis", "lactose_in", "allolactose"),
    ("lactose_decay", "lactose_in", None),
    ("allolactose_cleavage", "allolactose", None),
    ("allolactose_decay", "allolactose", None),
)
#: Index of the species each reaction consumes / produces (-1: none).
CONSUMED = tuple(-1 if c is None else SPECIES.index(c) for _, c, _ in REACTIONS)
PRODUCED = tuple(-1 if p is None else SPECIES.index(p) for _, _, p in REACTIONS)
#: (J, S) net change of each species when a reaction fires.
CHANGE = np.zeros((len(REACTIONS), len(SPECIES)), np.int64)
for _j, (_c, _p) in enumerate(zip(CONSUMED, PRODUCED)):
    if _c >= 0:
        CHANGE[_j, _c] -= 1
    if _p >= 0:
        CHANGE[_j, _p] += 1
#: Zero-order reactions (nothing consumed).
SOURCES = tuple(j for j, c in enumerate(CONSUMED) if c < 0)

#: Species leaped together: each level is fed only by zero-order sources or by the level before.
LEAP_LEVELS = ((I1, I2, I3, L), (M, B, P, A))


def _routes(level):
    """The consumers of a level's species that make a molecule (the others only remove one).

    ``(position in the level, reaction, sole consumer?)`` per such reaction: what leaves a
    species by a reaction that makes nothing needs no draw (only the count left behind
    matters); a sole consumer takes every molecule that leaves.
    """
    routes = []
    for position, species in enumerate(level):
        consumers = [j for j, c in enumerate(CONSUMED) if c == species]
        for j in consumers:
            if PRODUCED[j] >= 0:
                routes.append((position, j, len(consumers) == 1))
    return tuple(routes)


#: Per level of :data:`LEAP_LEVELS`, the consuming reactions that feed another species.
LEAP_ROUTES = tuple(_routes(level) for level in LEAP_LEVELS)


def _check_levels():
    """The leap's premise: what a level makes lands in the next level, and the last feeds none."""
    for index, routes in enumerate(LEAP_ROUTES):
        targets = {PRODUCED[j] for _, j, _ in routes}
        following = set(LEAP_LEVELS[index + 1]) if index + 1 < len(LEAP_LEVELS) else set()
        if not targets <= following:
            raise RuntimeError(f"lac network: leap level {index} feeds {sorted(targets)}, "
                               f"outside the next level {sorted(following)}")


_check_levels()
