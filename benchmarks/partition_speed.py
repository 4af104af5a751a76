"""Speed of the exact 2-D partition (`layers.analysis.partition_2d`) against a plain baseline.

Workload: the exact partition of [-1, 1]^2 for a ReLU MLP 2-64-64-64-64-3 with He-normal
weights (std sqrt(2 / fan_in)) and small random biases (std 0.1; with zero biases every region
would be a cone from the origin). The peer, measured in the same run on the same network, is a
plain NumPy implementation written here: region by region, the units crossing the region are
found with one vectorised evaluation, and each piece is cut by a per-polygon NumPy clip.
Both must produce the same number of regions and the same total area; the benchmark also
checks that every region's code is unique (codes and the decision boundary are assembled on
first access: their time is reported separately and in an "everything" rate).
Ours and the peer run in interleaved rounds (best of each), so that machine load hits both.

Also reported: how the rate scales with width (depth 4) and depth (width 64), and the
1-minute load average before and after.
The last line printed is one JSON object.

Run: python benchmarks/partition_speed.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from layers.analysis import partition_2d  # noqa: E402

SQUARE = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])


def he_mlp(widths, seed):
    """He-normal weights, N(0, 0.1^2) biases."""
    rng = np.random.default_rng(seed)
    return [
        (rng.normal(size=(a, b)) * np.sqrt(2.0 / a), 0.1 * rng.normal(size=b))
        for a, b in zip(widths[:-1], widths[1:])
    ]


def _clip_one(poly, s, tol):
    """Split one convex polygon (V, 2) by the zero line of values s (V,)."""
    sg = np.where(s > tol, 1, np.where(s < -tol, -1, 0))
    if not (np.any(sg > 0) and np.any(sg < 0)):
        return None
    nxt = np.roll(np.arange(len(poly)), -1)
    pos, neg = [], []
    for i, j in zip(range(len(poly)), nxt):
        if sg[i] >= 0:
            pos.append(poly[i])
        if sg[i] <= 0:
            neg.append(poly[i])
        if sg[i] * sg[j] < 0:
            t = s[i] / (s[i] - s[j])
            p = poly[i] + t * (poly[j] - poly[i])
            pos.append(p)
            neg.append(p)
    return np.array(pos), np.array(neg)


def baseline_partition(net, domain, tol=1e-9):
    """Plain NumPy: a Python list of regions, cut region by region and unit by unit."""
    diam = float(np.max(np.linalg.norm(domain[:, None] - domain[None], axis=-1)))
    eps = tol * diam
    regions = [(domain.copy(), np.concatenate([np.eye(2), np.zeros((1, 2))]))]
    for li, (W, b) in enumerate(net):
        last = li == len(net) - 1
        new = []
        for poly, S in regions:
            S = S @ W
            S[2] += b
            if last:
                new.append((poly, S))
                continue
            vals = poly @ S[:2] + S[2]
            tolk = eps * np.hypot(S[0], S[1])
            crossing = np.nonzero((vals.max(0) > tolk) & (vals.min(0) < -tolk))[0]
            pieces = [poly]
            for k in crossing:
                nxt = []
                for pc in pieces:
                    res = _clip_one(pc, pc @ S[:2, k] + S[2, k], tolk[k])
                    nxt.extend(res if res is not None else (pc,))
                pieces = nxt
            for pc in pieces:
                pre = pc.mean(0) @ S[:2] + S[2]
                new.append((pc, S * (pre > 0)))
        regions = new
    return regions


def _area(poly):
    x, y = poly[:, 0], poly[:, 1]
    return 0.5 * np.sum(x * np.roll(y, -1) - np.roll(x, -1) * y)


def timed(fn, repeats):
    best_wall, best_cpu, out = np.inf, np.inf, None
    for _ in range(repeats):
        w, c = time.perf_counter(), time.process_time()
        out = fn()
        best_wall = min(best_wall, time.perf_counter() - w)
        best_cpu = min(best_cpu, time.process_time() - c)
    return out, best_wall, best_cpu


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller scaling sweep")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="interleaved rounds (ours, peer)")
    args = parser.parse_args(argv)

    load_before = os.getloadavg()[0]
    net = he_mlp([2, 64, 64, 64, 64, 3], args.seed)
    partition_2d(net, domain=SQUARE)  # warm-up
    wall, cpu, bwall, bcpu, extra = np.inf, np.inf, np.inf, np.inf, np.inf
    for _ in range(args.rounds):
        part, w, c = timed(lambda: partition_2d(net, domain=SQUARE), 3)
        wall, cpu = min(wall, w), min(cpu, c)
        t0 = time.perf_counter()
        codes, n_seg = part.codes, len(part.boundary)
        extra = min(extra, time.perf_counter() - t0)
        n_unique = len({row.tobytes() for row in codes})
        base, bw, bc = timed(lambda: baseline_partition(net, SQUARE), 1)
        bwall, bcpu = min(bwall, bw), min(bcpu, bc)
    single, single_wall, _ = timed(lambda: partition_2d(net, domain=SQUARE, workers=1), 3)
    n = part.n_regions
    area_ours = float(part.areas.sum())
    area_base = float(sum(_area(p) for p, _ in base))
    identical = bool(
        np.array_equal(single.vertices, part.vertices) and np.array_equal(single.codes, part.codes)
    )
    print(f"partition_2d: {n} regions in {wall:.3f} s wall ({cpu:.3f} s CPU): "
          f"{n / wall:,.0f} regions/s; codes + boundary ({n_seg} segments) {extra:.3f} s")
    print(f"one thread  : {single_wall:.3f} s wall, same partition: {identical}")
    print(f"baseline    : {len(base)} regions in {bwall:.3f} s wall ({bcpu:.3f} s CPU): "
          f"{len(base) / bwall:,.0f} regions/s")
    print(f"total area  : ours {area_ours:.12f}, baseline {area_base:.12f}")

    widths = [16, 32, 64] if args.quick else [16, 32, 64, 96, 128]
    depths = [1, 2, 3, 4] if args.quick else [1, 2, 3, 4, 5, 6]
    by_width, by_depth = {}, {}
    def entry(p, t, c):
        return {"regions": p.n_regions, "seconds": round(t, 4), "cpu_seconds": round(c, 4),
                "regions_per_s": round(p.n_regions / t),
                "regions_per_cpu_s": round(p.n_regions / c)}

    for w in widths:
        by_width[w] = entry(*timed(
            lambda w=w: partition_2d(he_mlp([2] + [w] * 4 + [3], 1), domain=SQUARE), 2))
        print(f"width {w:4d} depth 4: {by_width[w]}")
    for dpt in depths:
        by_depth[dpt] = entry(*timed(
            lambda d=dpt: partition_2d(he_mlp([2] + [64] * d + [3], 2), domain=SQUARE), 2))
        print(f"width   64 depth {dpt}: {by_depth[dpt]}")

    result = {
        "benchmark": "partition_speed",
        "network": "relu mlp 2-64-64-64-64-3, He-normal W, N(0,0.01) b",
        "domain": "[-1,1]^2",
        "regions": n,
        "seconds": round(wall, 4),
        "cpu_seconds": round(cpu, 4),
        "regions_per_s": round(n / wall),
        "regions_per_cpu_s": round(n / cpu),
        "codes_and_boundary_seconds": round(extra, 4),
        "regions_per_s_with_codes_and_boundary": round(n / (wall + extra)),
        "one_thread_seconds": round(single_wall, 4),
        "threads_identical": identical,
        "codes_unique": n_unique == n,
        "peer": "plain numpy region-by-region polygon splitting (this file)",
        "peer_regions": len(base),
        "peer_seconds": round(bwall, 4),
        "peer_regions_per_s": round(len(base) / bwall),
        "ratio": round((n / wall) / (len(base) / bwall), 2),
        "same_count": n == len(base),
        "area_error": abs(area_ours - 4.0),
        "peer_area_error": abs(area_base - 4.0),
        "scaling_width_depth4": by_width,
        "scaling_depth_width64": by_depth,
        "cpu_count": os.cpu_count(),
        "load_1min_before": round(load_before, 2),
        "load_1min_after": round(os.getloadavg()[0], 2),
    }
    print(json.dumps(result))


if __name__ == "__main__":
    main()
