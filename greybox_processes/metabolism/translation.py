"""Translation draws on charged tRNAs: the expression layer's link from protein synthesis to
the tRNA synthetases.

A genome-scale model such as iJO1366 has the twenty aminoacyl-tRNA synthetase reactions
(``ALATRS``: ala + ATP + tRNA(Ala) -> Ala-tRNA(Ala) + AMP + PPi, ...), but its biomass reaction
takes free amino acids. The charged tRNAs are then dead ends, no synthetase ever carries flux,
and plain FBA calls every synthetase gene non-essential. Yet a cell without one cannot
translate. ETFL (Salvy & Hatzimanikatis 2020, Nat Commun 11:30) builds proteins from charged
tRNAs. :func:`couple_translation_to_trna` does the same for the biomass reaction's protein: each
amino acid the biomass consumes is taken as its aminoacyl-tRNA, and the uncharged tRNA returns
(a catalytic cycle: the tRNA itself is neither made nor consumed).

Charging costs ATP -> AMP + PPi per residue, paid by the synthetase reactions on top of the
biomass reaction's growth-associated maintenance, which is left as fitted (iJO1366: wild-type
growth on M9 glucose goes from 0.982 to 0.966 /h). The cost is not moved out of the
maintenance, because how much of the fitted value already stands for charging is not known.

Initiation: every bacterial protein chain starts with formyl-Met-tRNA (made by ``fmt``,
``FMETTRS``: Met-tRNA + 10-formyl-THF). Where the model has that reaction, one Met per chain is
taken as fMet-tRNA instead of Met-tRNA, and the formyl group returns as formate (peptide
deformylase, which iJO1366 lacks). Chains per gDW = residues per gDW / mean chain length, the
mean over the E. coli genes of the vendored PRECISE length table (unweighted: no abundance data
is used, which only scales this small demand, ~0.017 mmol/gDW, and changes no call). The
N-terminal Met that methionine aminopeptidase removes from part of the proteins is not
returned. Selenocysteine tRNA (``SERTRS2``) is not demanded: the biomass has no selenoproteins.
"""
from __future__ import annotations

import functools
import logging
from dataclasses import dataclass

from .models import biomass_reaction

__all__ = ["ChargingReaction", "charging_reactions", "couple_translation_to_trna",
           "coupled_charged_trnas", "initiator_reaction", "mean_chain_length"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ChargingReaction:
    """One amino acid's charging step: ``amino_acid + tRNA + ATP -> charged + AMP + PPi``."""

    amino_acid: str   # metabolite id, e.g. 'ala__L_c'
    trna: str         # uncharged tRNA, e.g. 'trnaala_c'
    charged: str      # aminoacyl-tRNA, e.g. 'alatrna_c'
    reaction: str     # synthetase reaction, e.g. 'ALATRS'


def _residue(amino_acid_id: str) -> str | None:
    """BiGG residue stem of an L-amino acid (or glycine) metabolite id: 'ala__L_c' -> 'ala'."""
    if amino_acid_id.endswith("__L_c"):
        return amino_acid_id[: -len("__L_c")]
    if amino_acid_id == "gly_c":
        return "gly"
    return None


def _reaction_making(model, product: str, *reactants: str) -> str | None:
    """Id of a reaction of ``model`` that makes ``product`` from all of ``reactants``."""
    for reaction in model.metabolites.get_by_id(product).reactions:
        stoich = {m.id: c for m, c in reaction.metabolites.items()}
        if stoich[product] > 0 and all(stoich.get(r, 0) < 0 for r in reactants):
            return reaction.id
    return None


def charging_reactions(model) -> dict[str, ChargingReaction]:
    """The synthetase reaction of each amino acid that the biomass reaction consumes.

    Matched by BiGG names (``<aa>trna_c`` made from ``trna<aa>_c`` and ``<aa>__L_c``), as in
    iJO1366 and iML1515. Amino acids with no such reaction are left out, so a model with no
    tRNA chemistry at all (e_coli_core) gives ``{}``.
    """
    biomass = biomass_reaction(model)
    found = {}
    for met, coefficient in biomass.metabolites.items():
        stem = _residue(met.id)
        if stem is None or coefficient >= 0:
            continue
        trna, charged = f"trna{stem}_c", f"{stem}trna_c"
        if trna not in model.metabolites or charged not in model.metabolites:
            continue
        synthetase = _reaction_making(model, charged, trna, met.id)
        if synthetase is not None:
            found[met.id] = ChargingReaction(met.id, trna, charged, synthetase)
    return found


def coupled_charged_trnas(model) -> list[str]:
    """Ids of the charged tRNAs (``*trna*``) that the biomass reaction consumes."""
    return sorted(m.id for m, c in biomass_reaction(model).metabolites.items()
                  if c < 0 and "trna" in m.id)


def initiator_reaction(model) -> str | None:
    """Id of the reaction that formylates Met-tRNA into the initiator fMet-tRNA, if any."""
    if "fmettrna_c" not in model.metabolites or "mettrna_c" not in model.metabolites:
        return None
    return _reaction_making(model, "fmettrna_c", "mettrna_c")


@functools.cache
def mean_chain_length() -> float:
    """Mean amino acids per polypeptide chain over the vendored E. coli gene table."""
    from .enzymes import protein_lengths

    lengths = list(protein_lengths().values())
    return float(sum(lengths) / len(lengths))


def couple_translation_to_trna(model) -> dict[str, ChargingReaction]:
    """Make the biomass reaction take its amino acids as charged tRNAs, inside ``with model:``.

    For each amino acid ``a`` consumed at ``c`` mmol/gDW with a charging reaction, the biomass
    reaction's ``-c a`` becomes ``-c a-tRNA + c tRNA``. The change is recorded in the model's
    context, so it reverts when the enclosing ``with model:`` block exits; outside such a block
    it is permanent, as for any cobra change.

    Where Met is coupled and the model formylates Met-tRNA (:func:`initiator_reaction`), one
    Met per chain is taken as fMet-tRNA and its formyl group returns as formate.

    Returns the amino acids coupled by this call: empty if the model has no charging
    reactions, or if its biomass already takes charged tRNAs (then nothing is changed;
    :func:`coupled_charged_trnas` says which).
    """
    biomass = biomass_reaction(model)
    already = coupled_charged_trnas(model)
    if already:  # coupled before (e.g. by the caller): coupling twice would double-count
        log.info("biomass %s already takes charged tRNAs %s; left as is", biomass.id, already)
        return {}
    coupled = charging_reactions(model)
    get = model.metabolites.get_by_id
    residues = 0.0  # mmol amino acid per gDW taken as charged tRNA
    for entry in coupled.values():
        amount = -biomass.metabolites[get(entry.amino_acid)]
        residues += amount
        biomass.add_metabolites({get(entry.amino_acid): amount, get(entry.charged): -amount,
                                 get(entry.trna): amount})
    if ("met__L_c" in coupled and "for_c" in model.metabolites
            and initiator_reaction(model) is not None):
        chains = residues / mean_chain_length()
        # these Met-tRNAs become fMet-tRNA (same tRNA returns); the formyl leaves as formate
        biomass.add_metabolites({get("mettrna_c"): chains, get("fmettrna_c"): -chains,
                                 get("for_c"): chains})
    if coupled:
        log.info("biomass %s takes %d amino acids as charged tRNAs", biomass.id, len(coupled))
    else:
        log.info("model %s has no tRNA charging reactions; translation is not coupled",
                 model.id)
    return coupled
