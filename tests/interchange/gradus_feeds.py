"""gradus_feeds.py: the feeds of a graph file's run (FORMAT "Run"), read in
Python for the interchange tests: fixed values and data sets of rows in
minibatches, wrapping around, reshuffled each pass with the project's
generator (xoshiro256** seeded by splitmix64, as engine/io/grd-random.c and
engine/io/grd-feed.c define it)."""
import base64
import csv
import math
import os

import numpy as np

M64 = (1 << 64) - 1
DTYPES = {"float32": np.float32, "float64": np.float64, "int32": np.int32,
          "int64": np.int64, "bool": np.bool_}


class Random:
    def __init__(self, seed):
        x = seed & M64
        self.s = []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = x
            z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    @staticmethod
    def _rotl(x, k):
        return ((x << k) | (x >> (64 - k))) & M64

    def next(self):
        s = self.s
        result = (self._rotl((s[1] * 5) & M64, 7) * 9) & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = self._rotl(s[3], 45)
        return result

    def uniform(self):
        return (self.next() >> 11) * (2.0 ** -53)


def permutation(n_rows, seed, pass_):
    perm = list(range(n_rows))
    rng = Random((seed ^ ((pass_ * 0xD1B54A32D192ED03) & M64)) & M64)
    for i in range(n_rows - 1, 0, -1):
        j = int(rng.uniform() * (i + 1))
        perm[i], perm[j] = perm[j], perm[i]
    return perm


def _fans(shape):
    if len(shape) == 0:
        return 1.0, 1.0
    if len(shape) == 1:
        return float(shape[0]), float(shape[0])
    field = float(np.prod(shape[2:])) if len(shape) > 2 else 1.0
    return shape[0] * field, shape[1] * field


def _init(v, dt):
    """The "init" form, drawn as engine/io/grd-value.c draws it."""
    shape, kind = v["shape"], v["init"]
    n = int(np.prod(shape)) if shape else 1
    rng = Random(v.get("seed", 0))
    if kind == "zeros":
        out = [0.0] * n
    elif kind == "ones":
        out = [1.0] * n
    elif kind in ("uniform", "glorot_uniform"):
        low, high = v.get("low", 0.0), v.get("high", 1.0)
        if kind == "glorot_uniform":
            fi, fo = _fans(shape)
            high = math.sqrt(6.0 / max(fi + fo, 1.0))
            low = -high
        out = [low + (high - low) * rng.uniform() for _ in range(n)]
    elif kind == "normal":
        mean, std = v.get("mean", 0.0), v.get("std", 1.0)
        out = []
        for _ in range(n):
            u1, u2 = rng.uniform(), rng.uniform()
            out.append(mean + std * math.sqrt(-2.0 * math.log1p(-u1)) * math.cos(2.0 * math.pi * u2))
    else:
        raise ValueError("unknown init %r" % kind)
    return np.array(out, dtype=np.float64).astype(dt).reshape(shape)


def value(v, dtype, base_dir):
    """A value in the JSON forms of FORMAT."""
    dt = DTYPES[dtype]
    if isinstance(v, dict):
        if "init" in v:
            return _init(v, dt)
        if "npy" in v:
            return np.load(os.path.join(base_dir, v["npy"])).astype(dt)
        if "data" in v:
            return np.array(v["data"], dtype=np.float64).astype(dt).reshape(v["shape"])
        if "base64" in v:
            raw = base64.b64decode(v["base64"])
            return np.frombuffer(raw, dtype=np.dtype(dt).newbyteorder("<")).reshape(v["shape"]).copy()
        raise ValueError("value form not read here: %r" % list(v))
    def num(x):
        return float(x) if isinstance(x, str) else x
    def conv(x):
        return [conv(e) for e in x] if isinstance(x, list) else num(x)
    return np.array(conv(v), dtype=np.float64).astype(dt)


def _csv_columns(feed, dtype, base_dir):
    with open(os.path.join(base_dir, feed["csv"]), newline="") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    header = rows[0] if feed.get("header") else None
    body = rows[1:] if header else rows
    def index(c):
        return header.index(c) if isinstance(c, str) else c
    table = np.array([[float(c) for c in r] for r in body])
    if "column" in feed:
        return table[:, index(feed["column"])].astype(DTYPES[dtype])
    cols = [index(c) for c in feed.get("columns", range(table.shape[1]))]
    return table[:, cols].astype(DTYPES[dtype])


class Feed:
    def __init__(self, feed, dtype, base_dir):
        self.fixed = None
        is_set = isinstance(feed, dict) and any(k in feed for k in ("csv", "batch", "shuffle"))
        if not is_set:
            self.fixed = value(feed, dtype, base_dir)
            return
        if "csv" in feed:
            self.data = _csv_columns(feed, dtype, base_dir)
        else:
            self.data = np.load(os.path.join(base_dir, feed["npy"])).astype(DTYPES[dtype])
        self.n_rows = self.data.shape[0]
        self.batch = feed.get("batch", self.n_rows)
        self.shuffle = feed.get("shuffle", False)
        self.seed = feed.get("seed", 0)
        self._perm_pass, self._perm = -1, None

    def next(self, step):
        if self.fixed is not None:
            return self.fixed
        rows = []
        for j in range(self.batch):
            pos = step * self.batch + j
            pass_, row = divmod(pos, self.n_rows)
            if self.shuffle:
                if self._perm_pass != pass_:
                    self._perm, self._perm_pass = permutation(self.n_rows, self.seed, pass_), pass_
                row = self._perm[row]
            rows.append(row)
        return self.data[rows]
