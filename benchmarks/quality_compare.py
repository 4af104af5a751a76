"""Side-by-side scoring of ``detector_quality.py``: both scorers on the same clips, compared.

Helper of ``benchmarks/detector_quality.py``. :func:`run` scores the clips with our scorer and
the peer's (``quality_scorers``), measures each with its corpus's figures
(``quality_corpus_v4.evaluate_v4`` or ``quality_corpus_dev.evaluate``), bootstraps the clip
AUCs together (``quality_metrics.bootstrap_ci``) and gives their ratio and difference and
whether the goal is met. A scorer that cannot be made or run is reported as
``available: false`` with the reason.
"""

from __future__ import annotations

import time

from quality_corpus_dev import evaluate
from quality_corpus_v4 import evaluate_v4, goal_met
from quality_metrics import bootstrap_ci

__all__ = ["run"]


def _run_scorer(name, make, clips, measure):
    """``(metrics dict, clip scores or None)``; failures become ``available: false``."""
    t0 = time.perf_counter()
    try:
        scorer = make()
        results = scorer(clips)
    except (RuntimeError, ImportError, OSError, ValueError) as exc:
        return {"name": name, "available": False, "reason": str(exc)}, None
    metrics = measure(clips, results, scorer)
    scores = metrics.pop("_clip_scores")
    metrics = {"name": name, "available": True,
               "description": getattr(scorer, "description", name), **metrics,
               "seconds": round(time.perf_counter() - t0, 2)}
    for attr in ("model_path", "excluded"):
        if hasattr(scorer, attr):
            value = getattr(scorer, attr)
            metrics[attr if attr != "excluded" else "non_bird_classes_excluded"] = (
                len(value) if attr == "excluded" else value)
    return metrics, scores


def _measure_dev(clips, results, scorer):
    return evaluate(clips, results)


def _measure_v4(clips, results, scorer):
    return evaluate_v4(clips, results, threshold=float(getattr(scorer, "threshold", 0.5)))


def run(clips, ours, peer, *, n_boot=1000, seed=0, corpus="dev"):
    """Score ``clips`` with both scorers (``(name, factory)`` pairs); the result dict.

    ``corpus="v4"`` measures with :func:`evaluate_v4` (each scorer's ``threshold``
    attribute, 0.5 without one) and bootstraps by recording; ``"dev"`` with :func:`evaluate`.

    Parameters
    ----------
    clips : list of Clip
        With their ``path`` written.
    ours, peer : (str, callable)
        Name and factory of each scorer (``quality_scorers.ours_scorer``, ``peer_scorer``).
    n_boot, seed : int
        Bootstrap resamples and seed (:func:`bootstrap_ci`).
    corpus : str
        ``v4`` or ``dev``.

    Returns
    -------
    dict
        ``ours`` and ``birdnet`` (each scorer's figures, or ``available: false`` and the
        ``reason``), ``ratio`` and ``difference`` of the clip AUCs (ours over, minus, the
        peer's), ``difference_ci95`` and ``goal_met``.
    """
    labels = [c.label for c in clips]
    measure = _measure_v4 if corpus == "v4" else _measure_dev
    m_ours, s_ours = _run_scorer(*ours, clips, measure)
    m_peer, s_peer = _run_scorer(*peer, clips, measure)
    sets = [s for s in (s_ours, s_peer) if s is not None]
    if sets:
        groups = [c.sources[0] for c in clips] if corpus == "v4" else None
        cis, diff_ci = bootstrap_ci(labels, sets, n_boot=n_boot, seed=seed, groups=groups)
        for m, s in ((m_ours, s_ours), (m_peer, s_peer)):
            if s is not None:
                m["clip_auc_ci95"] = cis[0 if s is sets[0] else 1]
    out = {"ours": m_ours, "birdnet": m_peer}
    a, b = m_ours.get("clip_auc"), m_peer.get("clip_auc")
    out["ratio"] = round(a / b, 4) if a is not None and b else None
    out["difference"] = round(a - b, 4) if a is not None and b is not None else None
    out["difference_ci95"] = diff_ci if len(sets) == 2 else None
    if corpus == "v4":
        out["goal_met"] = bool(m_ours.get("available") and goal_met(m_ours, m_peer))
    else:
        out["goal_met"] = (a is not None and a >= 0.95 and b is not None and a > b)
    return out

