"""Load metabolic models: cobra's bundled ones, SBML, JSON or YAML files, with clear errors.

Bundled names
-------------
``textbook``
    cobra's ``e_coli_core`` (Orth, Fleming & Palsson 2010, EcoSal Plus 4(1)), 95 reactions.
``iJO1366``
    Orth et al. 2011 Mol Syst Biol 7:535, 2583 reactions, 1367 genes.
``textbook_lactose``
    ``e_coli_core`` plus the lactose pathway of iJO1366 (see :func:`add_lactose_pathway`): the
    smallest model in which the glucose-lactose diauxie can be simulated.

Loading a bundled model takes from milliseconds (textbook) to seconds (iJO1366), so
loaded models are cached and every call returns a ``.copy()`` (the cobrapy pattern).
"""
from __future__ import annotations

import functools
from pathlib import Path

from .errors import ModelLoadError

__all__ = ["load_model", "add_lactose_pathway", "BUNDLED", "biomass_reaction",
           "LACTOSE_GENES"]

BUNDLED = ("textbook", "iJO1366", "textbook_lactose")

#: Genes of the lactose module added to e_coli_core, with their iJO1366 reactions.
LACTOSE_GENES = {"b0343": "lacY", "b0344": "lacZ", "b0757": "galK", "b0758": "galT",
                 "b0759": "galE", "b0688": "pgm", "b2388": "glk"}


def add_lactose_pathway(model) -> None:
    """Add lactose uptake and catabolism (iJO1366 stoichiometry) to e_coli_core, in place.

    Reactions (ids and gene rules as in iJO1366, Orth et al. 2011; periplasm collapsed into
    the extracellular compartment because e_coli_core has no periplasm):

    * ``EX_lcts_e``  lactose exchange (closed by default: lower bound 0);
    * ``LCTSt``      lactose permease LacY, lactose-proton symport (iJO1366 ``LCTSt3ipp``, b0343);
    * ``LACZ``       beta-galactosidase, lactose + H2O -> glucose + galactose (b0344);
    * ``HEX1``       glucokinase, glucose + ATP -> G6P + ADP (b2388); iJO1366 ``HEX1``;
    * ``GALLELOIR``  the Leloir pathway lumped: galactose + ATP -> G6P + ADP + H+, the net of
      iJO1366 ``GALKr`` (b0757), ``UGLT`` (b0758), ``UDPG4E`` (b0759) and ``PGMT`` (b0688), with
      the gene rule ``b0757 and b0758 and b0759 and b0688``.
    """
    from cobra import Metabolite, Reaction

    def met(mid, name, formula, compartment):
        if mid in model.metabolites:
            return model.metabolites.get_by_id(mid)
        return Metabolite(mid, name=name, formula=formula, compartment=compartment)

    lcts_e = met("lcts_e", "Lactose", "C12H22O11", "e")
    lcts_c = met("lcts_c", "Lactose", "C12H22O11", "c")
    gal_c = met("gal_c", "D-Galactose", "C6H12O6", "c")
    glc_c = met("glc__D_c", "D-Glucose", "C6H12O6", "c")
    m = {k: model.metabolites.get_by_id(k) for k in
         ("h_e", "h_c", "h2o_c", "atp_c", "adp_c", "g6p_c")}
    reactions = []
    ex = Reaction("EX_lcts_e", name="Lactose exchange", lower_bound=0.0, upper_bound=1000.0)
    ex.add_metabolites({lcts_e: -1})
    reactions.append(ex)
    t = Reaction("LCTSt", name="Lactose transport via proton symport (LacY)",
                 lower_bound=0.0, upper_bound=1000.0)
    t.add_metabolites({lcts_e: -1, m["h_e"]: -1, lcts_c: 1, m["h_c"]: 1})
    t.gene_reaction_rule = "b0343"
    reactions.append(t)
    z = Reaction("LACZ", name="beta-galactosidase", lower_bound=0.0, upper_bound=1000.0)
    z.add_metabolites({lcts_c: -1, m["h2o_c"]: -1, glc_c: 1, gal_c: 1})
    z.gene_reaction_rule = "b0344"
    reactions.append(z)
    hex1 = Reaction("HEX1", name="hexokinase (D-glucose:ATP)", lower_bound=0.0, upper_bound=1000.0)
    hex1.add_metabolites({glc_c: -1, m["atp_c"]: -1, m["g6p_c"]: 1, m["adp_c"]: 1, m["h_c"]: 1})
    hex1.gene_reaction_rule = "b2388"
    reactions.append(hex1)
    lel = Reaction("GALLELOIR", name="Leloir pathway, lumped (GALKr+UGLT+UDPG4E+PGMT)",
                   lower_bound=0.0, upper_bound=1000.0)
    lel.add_metabolites({gal_c: -1, m["atp_c"]: -1, m["g6p_c"]: 1, m["adp_c"]: 1, m["h_c"]: 1})
    lel.gene_reaction_rule = "b0757 and b0758 and b0759 and b0688"
    reactions.append(lel)
    model.add_reactions(reactions)
    for gid, name in LACTOSE_GENES.items():
        if gid in model.genes:
            model.genes.get_by_id(gid).name = name


@functools.lru_cache(maxsize=None)
def _bundled(name: str):
    from cobra.io import load_model as cobra_load

    if name == "textbook_lactose":
        model = cobra_load("textbook").copy()
        add_lactose_pathway(model)
        model.id = "e_coli_core_lactose"
        return model
    return cobra_load(name)


@functools.lru_cache(maxsize=8)
def _from_file(path: str, mtime: float):
    import cobra.io

    suffix = Path(path).suffix.lower()
    readers = {".xml": cobra.io.read_sbml_model, ".sbml": cobra.io.read_sbml_model,
               ".json": cobra.io.load_json_model, ".yml": cobra.io.load_yaml_model,
               ".yaml": cobra.io.load_yaml_model, ".mat": cobra.io.load_matlab_model}
    if suffix not in readers:
        raise ModelLoadError(f"model file {path!r} has an unknown extension {suffix!r}; "
                             f"use one of {sorted(readers)} (SBML, JSON, YAML, MATLAB)")
    try:
        model = readers[suffix](path)
    except Exception as error:  # cobra raises many types for a bad file; name the file and cause
        raise ModelLoadError(f"model file {path!r} does not parse as {suffix[1:].upper()}: "
                             f"{type(error).__name__}: {error}".strip()) from error
    if len(model.reactions) == 0:
        raise ModelLoadError(f"model file {path!r} parsed but holds no reactions; is it a "
                             "metabolic model?")
    return model


def load_model(name_or_path="textbook"):
    """A fresh copy of a metabolic model.

    Parameters
    ----------
    name_or_path : a bundled name (:data:`BUNDLED`), a path to an SBML (``.xml``), JSON, YAML or
        MATLAB model file, or a :class:`cobra.Model` (copied).

    Raises
    ------
    ModelLoadError
        Unknown name, missing file, or a file that does not parse.
    """
    from cobra import Model

    if isinstance(name_or_path, Model):
        return name_or_path.copy()
    if not isinstance(name_or_path, (str, Path)) or not str(name_or_path):
        raise ModelLoadError(f"expected a bundled model name {BUNDLED} or a file path, got "
                             f"{name_or_path!r}")
    text = str(name_or_path)
    if text in BUNDLED:
        return _bundled(text).copy()
    path = Path(text)
    if not path.is_file():
        raise ModelLoadError(f"no bundled model called {text!r} and no such file; bundled "
                             f"models are {', '.join(BUNDLED)}, files may be SBML/JSON/YAML")
    return _from_file(str(path.resolve()), path.stat().st_mtime).copy()


def biomass_reaction(model):
    """The model's growth (objective) reaction: the single reaction in the objective."""
    from cobra.util.solver import linear_reaction_coefficients

    coefficients = linear_reaction_coefficients(model)
    if len(coefficients) != 1:
        raise ModelLoadError(f"model {model.id!r} has {len(coefficients)} objective reactions; "
                             "dynamic FBA needs exactly one biomass reaction as the objective")
    return next(iter(coefficients))
