"""Labelled data for training and evaluation: the labels CSV and the validation split.

A labels CSV has a header and at least the columns ``path`` (relative to the data folder, or
absolute) and ``label`` (1: bird activity in the clip, 0: none). Optional columns:

- ``split``: ``train`` / ``val`` / ``test`` (any other value, e.g. empty, is unassigned);
- ``sources`` (``;``-separated ids) or ``group``: the source recording(s) a clip was made from.

This is the layout of ``data_scripts/build_dev_corpus.py`` and
``data_scripts/download_bird_datasets.py`` (DCASE's ``itemid,hasbird`` columns are read too:
``itemid`` is taken as ``path`` with ``.wav`` added when it has no extension).

The validation split holds out whole source recordings: when the CSV has a ``split`` column with
``val`` rows, those are the validation set (and ``test`` rows are left out of training);
otherwise clips are grouped by their sources (clips sharing any source fall in one group, by
union-find) or, with no source column, each clip is its own group, and a seeded draw puts about
``val_fraction`` of the groups in validation.

Example
-------
>>> records = read_labels("corpus/labels.csv", root="corpus")    # doctest: +SKIP
>>> train, val = split_records(records, val_fraction=0.2, seed=0)  # doctest: +SKIP
"""

from __future__ import annotations

import csv
import dataclasses
import os

import numpy as np

from scatter.disjoint_sets import DisjointSets
from scatter.errors import ScatterError

__all__ = ["Record", "read_labels", "split_records"]


@dataclasses.dataclass(frozen=True)
class Record:
    """One labelled clip."""

    path: str
    label: int
    split: str = ""
    sources: tuple = ()


def read_labels(labels, *, root=None):
    """Read a labels CSV.

    Parameters
    ----------
    labels : str or os.PathLike
        The CSV file.
    root : str or os.PathLike or None
        Folder relative paths are joined to; None: the CSV's folder.

    Returns
    -------
    list of Record

    Raises
    ------
    ScatterError
        For a missing file, missing columns, a label other than 0/1, or no rows.

    Examples
    --------
    >>> recs = read_labels("labels.csv")      # doctest: +SKIP
    """
    labels = os.fsdecode(labels)
    if not os.path.isfile(labels):
        raise ScatterError(f"labels CSV {labels!r} does not exist")
    root = os.path.dirname(os.path.abspath(labels)) if root is None else os.fsdecode(root)
    with open(labels, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        fields = reader.fieldnames or []
        path_col = "path" if "path" in fields else "itemid" if "itemid" in fields else None
        label_col = "label" if "label" in fields else "hasbird" if "hasbird" in fields else None
        if path_col is None or label_col is None:
            raise ScatterError(f"labels CSV {labels!r} must have columns 'path' and 'label' "
                               f"(or DCASE's 'itemid' and 'hasbird'); got {fields}")
        records = []
        for i, row in enumerate(reader, start=2):
            text = (row.get(label_col) or "").strip()
            if text not in ("0", "1"):
                raise ScatterError(f"{labels!r} line {i}: label must be 0 or 1; got {text!r}")
            path = (row.get(path_col) or "").strip()
            if not path:
                raise ScatterError(f"{labels!r} line {i}: empty path")
            if path_col == "itemid" and not os.path.splitext(path)[1]:
                path = os.path.join("wav", path + ".wav")
            if not os.path.isabs(path):
                path = os.path.join(root, path)
            src = row.get("sources") or row.get("group") or ""
            records.append(Record(path=path, label=int(text),
                                  split=(row.get("split") or "").strip().lower(),
                                  sources=tuple(s for s in src.split(";") if s)))
    if not records:
        raise ScatterError(f"labels CSV {labels!r} has no rows")
    return records


def _groups(records):
    """Group id of each record: records sharing a source are in one group.

    The id is the group's root in :class:`~scatter.disjoint_sets.DisjointSets` after each
    record, in order, is merged into the group of the first record that named each of its
    sources. :func:`split_records` draws groups in the order of these ids, so the rule fixes
    which clips a seed puts in validation: keep it as it is.
    """
    sets = DisjointSets(len(records))
    owner = {}
    for i, r in enumerate(records):
        for s in r.sources:
            sets.union(i, owner.setdefault(s, i))
    return sets.roots()


def split_records(records, *, val_fraction=0.2, seed=0):
    """Training and validation records, holding out whole source recordings.

    Parameters
    ----------
    records : list of Record
    val_fraction : float
        Share of groups for validation when the CSV does not say (0 < f < 1).
    seed : int

    Returns
    -------
    train, val : list of Record

    Raises
    ------
    ScatterError
        For a ``val_fraction`` outside (0, 1), or when either side would lack a class.
    """
    if not 0 < val_fraction < 1:
        raise ScatterError(f"val_fraction must be in (0, 1); got {val_fraction!r}")
    if any(r.split == "val" for r in records):
        train = [r for r in records if r.split not in ("val", "test")]
        val = [r for r in records if r.split == "val"]
    else:
        groups = _groups(records)
        ids = sorted(set(groups))
        rng = np.random.default_rng(seed)
        rng.shuffle(ids)
        n_val = max(1, int(round(len(ids) * val_fraction)))
        held = set(ids[:n_val])
        train = [r for r, g in zip(records, groups) if g not in held]
        val = [r for r, g in zip(records, groups) if g in held]
    for name, part in (("training", train), ("validation", val)):
        labels = {r.label for r in part}
        if labels != {0, 1}:
            raise ScatterError(f"the {name} split must hold both labels; it has "
                               f"{len(part)} clips with labels {sorted(labels)} (add data or "
                               f"change val_fraction/seed)")
    return train, val
