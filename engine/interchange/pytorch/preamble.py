import argparse
import json
import math
import os

import numpy as np
import torch
import torch.distributed as dist

HERE = os.path.dirname(os.path.abspath(__file__))
DATA = os.path.join(HERE, DATA_DIR)

# torchrun sets these; a plain run is one process
WORLD = int(os.environ.get("WORLD_SIZE", "1"))
RANK = int(os.environ.get("RANK", "0"))
LOCAL_RANK = int(os.environ.get("LOCAL_RANK", "0"))
DEVICE = torch.device("cuda", LOCAL_RANK) if torch.cuda.is_available() else torch.device("cpu")


def load(name):
    """A value that Gradus wrote beside the script (NumPy .npy)."""
    return torch.from_numpy(np.load(os.path.join(DATA, name + ".npy"))).to(DEVICE)


def value(v, dtype):
    return torch.tensor(v, dtype=dtype, device=DEVICE)


# ---------------------------------------------------------------- feeds

M64 = (1 << 64) - 1


class Random:
    """Gradus's generator (xoshiro256** seeded by splitmix64): the same
    shuffles as `gradus run`."""

    def __init__(self, seed):
        x, self.s = seed & M64, []
        for _ in range(4):
            x = (x + 0x9E3779B97F4A7C15) & M64
            z = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & M64
            z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & M64
            self.s.append(z ^ (z >> 31))

    def uniform(self):
        s = self.s
        r = ((((s[1] * 5) & M64) << 7 | ((s[1] * 5) & M64) >> 57) & M64) * 9 & M64
        t = (s[1] << 17) & M64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = ((s[3] << 45) | (s[3] >> 19)) & M64
        return (r >> 11) * (2.0 ** -53)


class Feed:
    """A fixed value, or a data set in minibatches of rows that wrap around,
    reshuffled each pass when asked. Under torchrun each process takes its
    share of every minibatch's rows."""

    def __init__(self, data, batch=None, shuffle=False, seed=0, fixed=False):
        self.data, self.fixed = data, fixed
        self.n_rows = data.shape[0] if not fixed else 0
        self.batch, self.shuffle, self.seed = batch, shuffle, seed
        self.perm_pass, self.perm = -1, None

    def _permutation(self, p):
        perm = list(range(self.n_rows))
        rng = Random(self.seed ^ ((p * 0xD1B54A32D192ED03) & M64))
        for i in range(self.n_rows - 1, 0, -1):
            j = int(rng.uniform() * (i + 1))
            perm[i], perm[j] = perm[j], perm[i]
        return perm

    def next(self, step):
        if self.fixed:
            return self.data
        rows = []
        for j in range(self.batch):
            p, row = divmod(step * self.batch + j, self.n_rows)
            if self.shuffle:
                if self.perm_pass != p:
                    self.perm, self.perm_pass = self._permutation(p), p
                row = self.perm[row]
            rows.append(row)
        mine = np.array_split(np.array(rows), WORLD)[RANK]
        return self.data[torch.as_tensor(mine, dtype=torch.long, device=self.data.device)]


# ---------------------------------------------------------------- ops

def _as(x, dtype):
    return x if x.dtype == dtype else x.to(dtype)


def _dims(x, axes):
    return tuple(range(x.dim())) if axes is None else tuple(a % x.dim() for a in axes)


def _sum(x, axes=None, keepdims=False):
    return x if x.dim() == 0 else torch.sum(x, dim=_dims(x, axes), keepdim=keepdims)


def _mean(x, axes=None, keepdims=False):
    return x if x.dim() == 0 else torch.mean(x, dim=_dims(x, axes), keepdim=keepdims)


def _prod(x, axes=None, keepdims=False):
    for d in sorted(_dims(x, axes), reverse=True):
        x = torch.prod(x, dim=d, keepdim=keepdims)
    return x


def _max(x, axes=None, keepdims=False):
    return x if x.dim() == 0 else torch.amax(x, dim=_dims(x, axes), keepdim=keepdims)


def _min(x, axes=None, keepdims=False):
    return x if x.dim() == 0 else torch.amin(x, dim=_dims(x, axes), keepdim=keepdims)


def _arg(f, x, axis=None, keepdims=False):
    if axis is not None:
        return f(x, dim=axis, keepdim=keepdims)
    r = f(x.reshape(-1))
    return r.reshape((1,) * x.dim()) if keepdims else r


def _dot(a, b):
    return a * b if a.dim() == 0 or b.dim() == 0 else torch.matmul(a, b)


def _dimshuffle(x, pattern):
    kept = [p for p in pattern if p != "x"]
    dropped = [d for d in range(x.dim()) if d not in kept]
    for d in reversed(dropped):
        x = x.squeeze(d)
    renum = {d: i for i, d in enumerate(d for d in range(len(kept) + len(dropped)) if d in kept)}
    x = x.permute([renum[p] for p in kept])
    for i, p in enumerate(pattern):
        if p == "x":
            x = x.unsqueeze(i)
    return x


def _flatten(x, ndim=1):
    return x.reshape(tuple(x.shape[:ndim - 1]) + (-1,))


def _slice(x, begin, end, step):
    for d, (b, e, s) in enumerate(zip(begin, end, step)):
        idx = list(range(*slice(b, e, s).indices(x.shape[d])))
        x = x.index_select(d, torch.tensor(idx, dtype=torch.long, device=x.device))
    return x


def _take(x, idx, axis=0):
    axis %= x.dim()
    i = idx.long() % x.shape[axis]
    r = x.index_select(axis, i.reshape(-1))
    return r.reshape(tuple(x.shape[:axis]) + tuple(idx.shape) + tuple(x.shape[axis + 1:]))


def _logsumexp(x, axes=None, keepdims=False):
    return torch.logsumexp(x, dim=_dims(x, axes if axes is not None else [-1]), keepdim=keepdims)


def _cce(p, t):
    if t.is_floating_point():
        return -(t * torch.log(p)).sum(-1)
    return -torch.log(torch.gather(p, -1, t.long().unsqueeze(-1)).squeeze(-1))


def _bce(p, t):
    return -(t * torch.log(p) + (1 - t) * torch.log1p(-p))


def _one_hot(t, depth, dtype):
    return torch.nn.functional.one_hot(t.long(), depth).to(dtype)


def _conv2d(x, w, border, stride, dilation, groups, flip):
    """Theano's conv2d: the filters turned by 180 degrees when flip (a true
    convolution); border "valid", "full", "half" or [ph, pw]."""
    if flip:
        w = torch.flip(w, (2, 3))
    span = [(w.shape[2 + k] - 1) * dilation[k] + 1 for k in range(2)]
    pads = {"valid": [0, 0], "full": [s - 1 for s in span], "half": [s // 2 for s in span]}
    pad = pads[border] if isinstance(border, str) else border
    return torch.nn.functional.conv2d(x, w, None, stride, pad, dilation, groups)


def _pool_2d(x, ws, stride, pad, ignore_border, mode):
    """Theano's pool_2d over the last two axes: windows start at i * stride
    in the input padded by pad; with ignore_border false the partial windows
    at the end are kept; max, sum and average_exc_pad read the real input
    only, average_inc_pad divides by the window's size."""
    stride = [s or k for s, k in zip(stride, ws)]
    size = list(x.shape[-2:])
    def out_len(n, k, s, p):
        if ignore_border:
            return max(0, (n + 2 * p - k) // s + 1)
        return (n - 1) // s + 1 if s >= k else max(0, (n - 1 - k + s) // s) + 1
    out = [out_len(size[k], ws[k], stride[k], pad[k]) for k in range(2)]
    end = [max(pad[k], (out[k] - 1) * stride[k] + ws[k] - size[k] - pad[k]) for k in range(2)]
    planes = x.reshape(-1, 1, size[0], size[1])
    borders = (pad[1], end[1], pad[0], end[0])
    F = torch.nn.functional
    if mode == "max":
        y = F.max_pool2d(F.pad(planes, borders, value=-math.inf), ws, stride)
    else:
        total = F.avg_pool2d(F.pad(planes, borders), ws, stride, divisor_override=1)
        if mode == "sum":
            y = total
        elif mode == "average_inc_pad" and ignore_border:
            y = total / (ws[0] * ws[1])
        else:
            ones = F.pad(torch.ones_like(planes), borders)
            y = total / F.avg_pool2d(ones, ws, stride, divisor_override=1)
    return y[..., :out[0], :out[1]].reshape(tuple(x.shape[:-2]) + tuple(out))


def _region(x, idx, begin, end, step):
    """The key of an index region: the index arrays, or per-axis positions of
    a slice, broadcast against each other as NumPy's ix_ does."""
    if idx:
        return tuple(i.long() for i in idx)
    key = []
    for d in range(x.dim()):
        if d < len(begin):
            pos = list(range(*slice(begin[d], end[d], step[d]).indices(x.shape[d])))
        else:
            pos = list(range(x.shape[d]))
        t = torch.tensor(pos, dtype=torch.long, device=x.device)
        key.append(t.reshape([-1 if k == d else 1 for k in range(x.dim())]))
    return tuple(key)


def _index(x, idx):
    return x[_region(x, idx, [], [], [])] if idx else x


def _subtensor(x, y, idx, begin, end, step, add):
    """set_subtensor (add false) or inc_subtensor of a copy of x; repeated
    indices add up."""
    key = _region(x, idx, begin, end, step)
    region = x[key].shape
    return x.index_put(key, _as(y, x.dtype).expand(region), accumulate=add)


def _shape(x, axis=None):
    dims = list(x.shape)
    return torch.tensor(dims if axis is None else dims[axis], dtype=torch.int64, device=x.device)


def _arange(a, b, s, dtype):
    """NumPy's arange: integer arithmetic for integer bounds, else start + i
    step in float64."""
    ints = not any(t.is_floating_point() for t in (a, b, s))
    a, b, s = a.item(), b.item(), s.item()
    n = max(0, -((a - b) // s) if ints else math.ceil((b - a) / s))
    v = [a + i * s for i in range(n)]
    return torch.tensor(v, dtype=torch.int64 if ints else torch.float64, device=DEVICE).to(dtype)


def _divmod(a, b):
    """NumPy's npy_divmod (floats) or Python's floor rule with x // 0 = x % 0
    = 0 (integers): the floor quotient and the modulus."""
    if not a.is_floating_point():
        zero = b == 0
        safe = torch.where(zero, torch.ones_like(b), b)
        q = torch.div(a, safe, rounding_mode="floor")
        return torch.where(zero, torch.zeros_like(q), q), torch.where(zero, torch.zeros_like(q),
                                                                      torch.remainder(a, safe))
    m = torch.fmod(a, b)
    div = (a - m) / b
    adjust = (m != 0) & ((b < 0) != (m < 0))
    m = torch.where(adjust, m + b, m)
    div = torch.where(adjust, div - 1, div)
    fd = torch.floor(div)
    fd = torch.where(div - fd > 0.5, fd + 1, fd)
    return torch.where(b == 0, a / b, fd), m


def _mod(a, b):
    return _divmod(a, b)[1]


def _floor_div(a, b):
    return _divmod(a, b)[0]


# ---------------------------------------------------------------- random nodes

M32 = 0xFFFFFFFF
_DRAWS = {}


def _philox(ctr, key):
    """Philox 4x32-10 (engine/grd-philox.c) on arrays of 32-bit words."""
    c0, c1, c2, c3 = ctr
    k0, k1 = key
    for _ in range(10):
        p0 = np.uint64(0xD2511F53) * c0
        p1 = np.uint64(0xCD9E8D57) * c2
        c0, c1, c2, c3 = ((p1 >> np.uint64(32)) ^ c1 ^ np.uint64(k0), p1 & np.uint64(M32),
                          (p0 >> np.uint64(32)) ^ c3 ^ np.uint64(k1), p0 & np.uint64(M32))
        k0, k1 = (k0 + 0x9E3779B9) & M32, (k1 + 0xBB67AE85) & M32
    return c0, c1, c2, c3


def _random(node, dist, seed, shape, p0, p1, dtype):
    """A random node as Gradus draws it: element e of draw d (the node's
    calls so far) is a function of (seed, node id, e, d) only, so the
    script draws the numbers `gradus run` draws."""
    d = _DRAWS.get(node, 0)
    _DRAWS[node] = d + 1
    h = 2166136261
    for ch in node.encode():
        h = ((h ^ ch) * 16777619) & M32
    key = (seed & M32, ((seed >> 32) ^ h) & M32)
    shape = tuple(shape)
    e = np.arange(int(np.prod(shape, dtype=np.int64)), dtype=np.uint64).reshape(shape)
    def block(extra):
        zero = np.zeros_like(e)
        return _philox((e & np.uint64(M32), (e >> np.uint64(32)) ^ np.uint64(extra),
                        zero + np.uint64(d & M32), zero + np.uint64(d >> 32)), key)
    def unit53(a, b):
        return ((a >> np.uint64(5)).astype(np.float64) * 67108864.0
                + (b >> np.uint64(6)).astype(np.float64)) * (1.0 / 9007199254740992.0)
    a = np.broadcast_to(p0.detach().cpu().numpy().astype(np.float64), shape)
    b = np.broadcast_to(p1.detach().cpu().numpy().astype(np.float64), shape)
    w = block(0)
    if dist == "uniform":
        v = a + (b - a) * unit53(w[0], w[1])
        if dtype == torch.float32:  # float rounding must not reach `high`
            hit = (v.astype(np.float32) >= b) & (b > a)
            v = np.where(hit, np.nextafter(b.astype(np.float32), a.astype(np.float32)), v)
    elif dist == "normal":
        u1, u2 = 1.0 - unit53(w[0], w[1]), unit53(w[2], w[3])
        v = a + b * np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * math.pi * u2)
    else:  # binomial: n Bernoulli trials of 32-bit uniforms, four per block
        n = np.floor(np.abs(a) + 0.5) * np.sign(a)
        v = np.zeros(shape)
        for j in range(int(n.max()) if n.size else 0):
            if j > 0 and j % 4 == 0:
                w = block(j // 4)
            v += ((w[j % 4].astype(np.float64) + 0.5) * (1.0 / 4294967296.0) < b) & (j < n)
    return torch.from_numpy(np.ascontiguousarray(v)).to(dtype).to(DEVICE)


# ---------------------------------------------------------------- scan and ifelse

def _scan(body, n_steps, seqs, states, nonseqs, n_out):
    """Gradus's core scan as a for loop: step t calls body with row t of each
    sequence, each fed-back output at its taps (the initial value, or its
    rows for taps below -1, before the first steps) and the non-sequences;
    every output is its steps' values stacked on a new axis 0. states lists
    (output, initial value, taps, largest lag). autograd runs back through it."""
    T = int(n_steps) if n_steps is not None else min(int(q.shape[0]) for q in seqs)
    hist = {o: (list(init.unbind(0)) if lag > 1 else [init]) for o, init, taps, lag in states}
    rows = [[] for _ in range(n_out)]
    for t in range(T):
        args = [q[t] for q in seqs]
        for o, init, taps, lag in states:
            args += [hist[o][len(hist[o]) + k] for k in taps]
        ys = body(*(args + list(nonseqs)))
        for o, y in enumerate(ys):
            rows[o].append(y)
        for o, init, taps, lag in states:
            hist[o] = (hist[o][1:] + [ys[o]]) if lag > 1 else [ys[o]]
    out = []
    for o in range(n_out):
        if rows[o]:
            out.append(torch.stack(rows[o]))
        else:  # no step ran: an empty stack of the initial value's rows
            like = hist[o][0] if o in hist else None
            shape = (0,) + (tuple(like.shape) if like is not None else ())
            out.append(torch.zeros(shape, dtype=like.dtype if like is not None else torch.float64,
                                   device=DEVICE))
    return out


def _tap_gather(seq, begin, fixed, span, backwards, n_steps=None):
    """The rows a scan step reads for one tap of a sequence: row begin + t of
    the sequence (turned over for go_backwards), for each step t."""
    x = torch.flip(seq, [0]) if backwards else seq
    T = int(n_steps) if n_steps is not None else fixed if fixed is not None else x.shape[0] - span
    return x[begin:begin + T]


def _ifelse(cond, then_branch, else_branch, args):
    """Only the branch the condition takes runs."""
    return (then_branch if bool(cond != 0) else else_branch)(*args)


# ---------------------------------------------------------------- gradients

def _grad(cost, wrt, higher=False):
    """d cost / d wrt[i], zeros where cost does not depend on it; under
    torchrun the gradients are averaged over the processes."""
    live = [w for w in wrt if w.requires_grad]
    got = []
    if live and cost.requires_grad:
        got = list(torch.autograd.grad(cost, live, create_graph=higher, allow_unused=True))
    out = []
    for w in wrt:
        g = got.pop(0) if w.requires_grad and got else None
        g = torch.zeros_like(w) if g is None else g
        if WORLD > 1:
            g = g.detach().clone()
            dist.all_reduce(g)
            g = g / WORLD
        out.append(g)
    return out


def _leaf(x):
    return x.detach().requires_grad_(x.is_floating_point())


# ---------------------------------------------------------------- printing

def _plain(t):
    """Nested lists as `gradus run` prints them: float32 with its shortest
    digits, non-finite numbers as strings."""
    a = t.detach().cpu().numpy()
    def one(v):
        if a.dtype == np.bool_:
            return bool(v)
        if a.dtype.kind in "iu":
            return int(v)
        f = float(str(np.float32(v))) if a.dtype == np.float32 else float(v)
        return f if math.isfinite(f) else ("nan" if math.isnan(f) else ("inf" if f > 0 else "-inf"))
    def walk(x):
        return [walk(e) for e in x] if isinstance(x, np.ndarray) and x.ndim else one(x)
    return walk(a) if a.ndim else one(a[()])


def _combine(t, how, split):
    """An output under torchrun: rows gathered in rank order ("rows") when the
    data sets were split, a float scalar averaged ("mean"), else rank 0's."""
    if WORLD == 1 or how == "keep" or (how == "rows" and not split):
        return t
    t = t.detach()
    if how == "mean":
        t = t.clone()
        dist.all_reduce(t)
        return t / WORLD
    parts = [None] * WORLD
    dist.all_gather_object(parts, t.cpu())
    return torch.cat(parts, 0).to(t.device)
