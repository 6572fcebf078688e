"""What an ensemble says: per measure the distribution, today's zoning and each scenario placed in
it, the chains' agreement, in figures (API fields in English) and in Dutch sentences.

Placement: for a measure where lower is better (zones touched, inhabitants outside, crossings,
VI, spread), ``share_better`` is the share of plans strictly below the value, ``share_worse``
strictly above; ``percentile`` is the share at or below (the empirical distribution function, in
%). For measures where higher is better the roles of below and above swap for better and worse.

Agreement between chains: the split R-hat of Gelman and Rubin for every whole-layer measure (a
measure that is constant in all chains has R-hat 1). Below :data:`RHAT_AGREE` for every measure
the chains agree; otherwise the statement names the measures where they do not, and advises more
plans.

Examples
--------
>>> round(split_rhat([np.arange(100.0), np.arange(100.0)]), 2) > 1.5  # two chains that each drift
True
>>> round(split_rhat([np.array([1.0, 2.0, 1.0, 2.0] * 25)] * 2), 1)
1.0
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from geo import dutch
from geo.ensemble.measures import (
    ASSOCIATION_MEASURES,
    LAYER_MEASURES,
    MEASURES,
    SHARE_MEASURES,
    layer_measures,
)

if TYPE_CHECKING:
    from geo.engine.layer import Layer
    from geo.ensemble.problem import Problem
    from geo.ensemble.sampler import EnsembleResult

QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)
HISTOGRAM_BINS = 20
RHAT_AGREE = 1.1


@dataclass(frozen=True)
class Placement:
    """One zoning (today's, a scenario) placed among the plans for one measure."""

    label: str
    value: float | None
    percentile: float | None
    share_better: float | None
    share_worse: float | None
    sentence: str

    def to_dict(self) -> dict:
        """The measure of the current zoning as a JSON-ready dict."""
        return {"label": self.label, "value": self.value, "percentile": self.percentile,
                "share_better": self.share_better, "share_worse": self.share_worse, "sentence": self.sentence}


@dataclass(frozen=True)
class MeasureSummary:
    """The distribution of one measure (whole layer, or one association) over the plans."""

    measure: str
    label: str
    better: str
    association: str | None
    association_name: str | None
    mean: float | None
    quantiles: dict[str, float | None]
    minimum: float | None
    maximum: float | None
    bins: tuple[float, ...]
    counts: tuple[int, ...]
    base: Placement
    scenarios: tuple[tuple[str, Placement], ...] = ()

    def to_dict(self) -> dict:
        """The measure's spread over the ensemble as a JSON-ready dict."""
        return {"measure": self.measure, "label": self.label, "better": self.better,
                "association": self.association, "association_name": self.association_name,
                "mean": self.mean, "quantiles": dict(self.quantiles), "minimum": self.minimum,
                "maximum": self.maximum, "histogram": {"bins": list(self.bins), "counts": list(self.counts)},
                "base": self.base.to_dict(), "scenarios": {k: p.to_dict() for k, p in self.scenarios}}


@dataclass(frozen=True)
class Convergence:
    """Acceptance rate per chain and the agreement between chains."""

    acceptance_rates: tuple[float, ...]
    rhat: dict[str, float | None]
    agree: bool
    statement: str

    def to_dict(self) -> dict:
        """The convergence check as a JSON-ready dict."""
        return {"acceptance_rates": list(self.acceptance_rates), "rhat": dict(self.rhat), "agree": self.agree,
                "threshold": RHAT_AGREE, "statement": self.statement}


@dataclass(frozen=True)
class EnsembleSummary:
    """Everything :func:`summarise` says about an ensemble."""

    plans: int
    chains: int
    base_layer: str
    base_layer_name: str
    population_year: int
    layer: tuple[MeasureSummary, ...]
    associations: tuple[MeasureSummary, ...]
    convergence: Convergence
    repairs_text: str
    sentences: tuple[str, ...] = field(default=())

    def measure(self, name: str, association: str | None = None) -> MeasureSummary:
        """The summary of measure ``name`` (for ``association``, or the layer when None); KeyError if absent."""
        for m in (*self.layer, *self.associations):
            if m.measure == name and m.association == association:
                return m
        raise KeyError((name, association))

    def to_dict(self) -> dict:
        """The ensemble summary as a JSON-ready dict."""
        return {"plans": self.plans, "chains": self.chains, "base_layer": self.base_layer,
                "base_layer_name": self.base_layer_name, "population_year": self.population_year,
                "layer": [m.to_dict() for m in self.layer],
                "associations": [m.to_dict() for m in self.associations],
                "convergence": self.convergence.to_dict(), "repairs_text": self.repairs_text,
                "sentences": list(self.sentences)}


# -- statistics ------------------------------------------------------------------------------------
def split_rhat(chains: list[np.ndarray]) -> float:
    """Split R-hat (Gelman et al., 2013) of one measure over chains of equal or unequal length."""
    halves = []
    for values in chains:
        values = np.asarray(values, dtype=float)
        values = values[np.isfinite(values)]
        half = len(values) // 2
        if half >= 2:
            halves += [values[:half], values[half:2 * half]]
    if len(halves) < 2:
        return float("nan")
    n = min(len(h) for h in halves)
    x = np.stack([h[:n] for h in halves])
    within = x.var(axis=1, ddof=1).mean()
    between = n * x.mean(axis=1).var(ddof=1)
    if within <= 0:
        return 1.0 if between <= 0 else float("inf")
    pooled = (n - 1) / n * within + between / n
    return float(np.sqrt(pooled / within))


def singular(plural: str) -> str:
    """A layer's name as one zone of it, for sentences ("eerstelijnszones" -> "eerstelijnszone").

    Examples
    --------
    >>> singular("eerstelijnszones"), singular("referentieregio's")
    ('eerstelijnszone', 'referentieregio')
    """
    word = plural.strip()
    if word.endswith("'s"):
        return word[:-2]
    return word.removesuffix("s")


def _fmt(measure: str, value: float) -> str:
    if MEASURES[measure][3]:
        return dutch.number(value)
    if measure in SHARE_MEASURES:
        return dutch.percent(value)
    if measure in ("outside", "population_spread"):
        return dutch.inhabitants(value)
    return dutch.number(value, 3)


def _place(values: np.ndarray, value: float | None, measure: str, label: str, subject: str, plans_text: str,
           unit: str) -> Placement:
    values = values[np.isfinite(values)]
    if value is None or value != value or not len(values):
        return Placement(label, None, None, None, None, f"{label}: niet bepaald.")
    below, above = float((values < value).mean()), float((values > value).mean())
    at_most = float((values <= value).mean())
    lower_better = MEASURES[measure][2] == "lower"
    better, worse = (below, above) if lower_better else (above, below)
    if measure == "zones_touched":
        now = f"{label} valt {subject} in {dutch.number(value)} {unit}"
        if value == 1:
            now = f"{label} valt {subject} in één {singular(unit)}"
        if value > 1:
            tail = f"in {dutch.percent(better, 0)} van de {plans_text} valt het in hoogstens {dutch.number(value - 1)}"
        else:
            tail = f"in {dutch.percent(1 - worse, 0)} van de {plans_text} valt het ook in één {singular(unit)}"
        sentence = f"{now}; {tail}."
    else:
        good, bad = ("lager", "hoger") if lower_better else ("hoger", "lager")
        what = MEASURES[measure][1] + (f" ({subject})" if subject else "")
        sentence = (f"{label}: {_fmt(measure, value)} ({what}); in {dutch.percent(better, 0)} van de {plans_text} "
                    f"is dat {good} (beter), in {dutch.percent(worse, 0)} {bad}.")
    return Placement(label, float(value), round(100.0 * at_most, 2), better, worse, sentence)


def _distribution(values: np.ndarray, measure: str) -> tuple:
    finite = values[np.isfinite(values)]
    if not len(finite):
        return None, {f"{q:g}": None for q in QUANTILES}, None, None, (), ()
    quantiles = {f"{q:g}": float(np.quantile(finite, q)) for q in QUANTILES}
    if MEASURES[measure][3]:
        lo, hi = int(finite.min()), int(finite.max())
        bins = tuple(float(b) for b in range(lo, hi + 2))
        counts = tuple(int(c) for c in np.bincount(finite.astype(int) - lo, minlength=hi - lo + 1))
    else:
        counts_, edges = np.histogram(finite, bins=HISTOGRAM_BINS)
        bins, counts = tuple(float(e) for e in edges), tuple(int(c) for c in counts_)
    return float(finite.mean()), quantiles, float(finite.min()), float(finite.max()), bins, counts


def summarise(problem: Problem, result: EnsembleResult, scenarios: Mapping[str, Layer] = {}) -> EnsembleSummary:
    """Distributions, placements of today's zoning and the ``scenarios`` (label -> layer), and the
    chains' agreement.

    Parameters
    ----------
    problem : Problem
    result : EnsembleResult
    scenarios : mapping of str to Layer
        Zonings to place among the plans, by the label the sentences use (e.g. the scenario's name).

    Returns
    -------
    EnsembleSummary

    Examples
    --------
    >>> from geo.storage.workspace import open_workspace
    >>> from geo.ensemble.problem import prepare
    >>> from geo.ensemble.run import run_ensemble
    >>> from geo.ensemble.spec import EnsembleSpec
    >>> problem = prepare(open_workspace(None, "sqlite://"),
    ...                   EnsembleSpec("eerstelijnszone", plans=20, chains=2, seed=3))
    >>> summary = summarise(problem, run_ensemble(problem))
    >>> summary.measure("zones_touched", "W13").base.sentence[:42]
    'Vandaag valt W13 in 4 eerstelijnszones; in'
    """
    from geo.ensemble.problem import repairs_sentence

    data = problem.measures
    plans_text = f"{dutch.number(len(result.plans))} geldige indelingen"
    unit = problem.base_layer_name.lower()
    base_layer = _base_layer(problem)
    today = layer_measures(data, base_layer) if base_layer is not None else None
    others = {label: layer_measures(data, layer) for label, layer in scenarios.items()}
    layer_out, assoc_out = [], []
    for name in LAYER_MEASURES:
        if name not in result.measures:
            continue  # a result stored before this measure existed
        values = np.asarray(result.measures[name], dtype=float)
        mean, quantiles, lo, hi, bins, counts = _distribution(values, name)
        base = _place(values, None if today is None else float(today[name][0]), name, "Vandaag", "", plans_text, unit)
        placed = tuple((label, _place(values, float(m[name][0]), name, label, "", plans_text, unit))
                       for label, m in others.items())
        layer_out.append(MeasureSummary(name, MEASURES[name][1], MEASURES[name][2], None, None, mean, quantiles,
                                        lo, hi, bins, counts, base, placed))
    for a, code in enumerate(data.codes):
        for name in ASSOCIATION_MEASURES:
            if name not in result.measures:
                continue
            values = np.asarray(result.measures[name][:, a], dtype=float)
            mean, quantiles, lo, hi, bins, counts = _distribution(values, name)
            base = _place(values, None if today is None else float(today[name][0, a]), name, "Vandaag", code,
                          plans_text, unit)
            placed = tuple((label, _place(values, float(m[name][0, a]), name, label, code, plans_text, unit))
                           for label, m in others.items())
            assoc_out.append(MeasureSummary(name, MEASURES[name][1], MEASURES[name][2], code, data.names[a], mean,
                                            quantiles, lo, hi, bins, counts, base, placed))
    convergence = _convergence(result)
    sentences = tuple(m.base.sentence for m in assoc_out if m.measure == "zones_touched") + (convergence.statement,)
    return EnsembleSummary(len(result.plans), len(result.chains), problem.base_layer_id, problem.base_layer_name,
                           problem.population_year, tuple(layer_out), tuple(assoc_out), convergence,
                           repairs_sentence(problem), sentences)


def _base_layer(problem: Problem) -> Layer | None:
    """Today's zoning as the user knows it (the base layer as it is, not the repaired start)."""
    import pandas as pd

    from geo.engine.layer import Layer

    rows = np.nonzero(problem.base_labels >= 0)[0]
    if not len(rows):
        return None
    frame = pd.DataFrame({"zone_code": [problem.base_zone_codes[z] for z in problem.base_labels[rows]],
                          "nis_code": problem.nis[rows]})
    return Layer.from_members(problem.base_layer_id, frame, _atoms(problem))


def _atoms(problem: Problem):
    import pandas as pd

    from geo.engine.atoms import Atoms

    cached = problem.__dict__.get("_atoms")
    if cached is None:
        cached = Atoms.from_frame(pd.DataFrame({"nis_code": problem.nis, "name": list(problem.names),
                                                "region": np.where(problem.flemish, "Vlaams Gewest", "Brussels"),
                                                "area_km2": 0.0, "population": problem.population}),
                                  problem.population_year)
        problem.__dict__["_atoms"] = cached
    return cached


def _convergence(result: EnsembleResult) -> Convergence:
    rates = tuple(round(c.acceptance_rate, 4) for c in result.chains)
    rhat: dict[str, float | None] = {}
    for name in LAYER_MEASURES:
        if name not in result.measures:
            continue
        values = np.asarray(result.measures[name], dtype=float)
        per_chain = [values[result.chain_of == c.chain] for c in result.chains]
        r = split_rhat(per_chain)
        rhat[name] = None if r != r else round(r, 4)
    known = {k: v for k, v in rhat.items() if v is not None}
    off = [k for k, v in known.items() if v > RHAT_AGREE]
    chains = len(result.chains)
    if not known:
        statement = ("Er zijn te weinig indelingen per keten om na te gaan of de ketens overeenkomen; "
                     "vraag meer indelingen.")
        agree = False
    elif not off:
        statement = (f"De {chains} ketens komen overeen: voor elke maat verschilt de spreiding tussen de ketens niet "
                     f"meer dan binnen een keten (R-hat hoogstens {dutch.number(max(known.values()), 2)}, "
                     f"grens {dutch.number(RHAT_AGREE, 2)}).")
        agree = True
    else:
        labels = dutch.join([MEASURES[k][1] for k in off])
        statement = (f"De {chains} ketens komen nog niet overeen voor: {labels} (R-hat tot "
                     f"{dutch.number(max(known[k] for k in off), 2)}, grens {dutch.number(RHAT_AGREE, 2)}). "
                     "Vraag meer indelingen voor een betrouwbaar beeld.")
        agree = False
    if chains == 1:
        statement = "Er is maar één keten: of de uitkomst van het startpunt afhangt, is niet na te gaan. " + statement
    accepted = dutch.percent(float(np.mean(rates)) if rates else 0.0, 0)
    statement += f" Gemiddeld veranderde {accepted} van de stappen de indeling."
    return Convergence(rates, rhat, agree, statement)
