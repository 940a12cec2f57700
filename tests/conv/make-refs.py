#!/usr/bin/python3
"""make-refs.py: writes tests/data/conv-refs.json, the independent references
that tests/test-conv.c checks conv2d and pool_2d against (both back ends):

- conv2d for every combination of border_mode, subsample, filter_dilation,
  num_groups and filter_flip, with PyTorch (float64) doing the work:
  Theano's convolution (filter_flip true) is torch's conv2d of the filters
  turned by 180 degrees; the gradients for input and filters come from
  torch.autograd with a random output gradient;
- pool_2d for every mode with and without ignore_border, strides and
  padding, computed by the hand-written NumPy loops below (Theano's
  Pool.perform, in our own words).

Run it with Debian's python3 (python3-torch, python3-numpy):
    /usr/bin/python3 tests/conv/make-refs.py > tests/data/conv-refs.json
"""
import itertools
import json
import sys

import numpy as np
import torch


def num(a):
    return [float("%.12g" % v) for v in np.asarray(a, dtype=np.float64).ravel()]


def tensor_json(a):
    a = np.asarray(a, dtype=np.float64)
    return {"shape": list(a.shape), "data": num(a)}


def conv_case(rng, border, sub, dil, groups, flip):
    n, c, h, w, o, kh, kw = 2, 4, 6, 5, 4, 3, 2
    x = rng.standard_normal((n, c, h, w))
    f = rng.standard_normal((o, c // groups, kh, kw))
    span = [(kh - 1) * dil[0] + 1, (kw - 1) * dil[1] + 1]
    if border == "valid":
        pad = [0, 0]
    elif border == "full":
        pad = [s - 1 for s in span]
    elif border == "half":
        pad = [s // 2 for s in span]
    else:
        pad = list(border)
    xt = torch.tensor(x, requires_grad=True)
    ft = torch.tensor(f, requires_grad=True)
    used = torch.flip(ft, [2, 3]) if flip else ft
    y = torch.nn.functional.conv2d(xt, used, stride=sub, padding=pad, dilation=dil, groups=groups)
    gy = torch.tensor(rng.standard_normal(tuple(y.shape)))
    y.backward(gy)
    return {
        "op": "conv2d",
        "attrs": {"border_mode": border, "subsample": sub, "filter_dilation": dil,
                  "num_groups": groups, "filter_flip": flip},
        "inputs": [tensor_json(x), tensor_json(f)],
        "output": tensor_json(y.detach().numpy()),
        "gy": tensor_json(gy.numpy()),
        "grads": [tensor_json(xt.grad.numpy()), tensor_json(ft.grad.numpy())],
    }


def floordiv(a, b):
    return a // b


def pool_ref(x, ws, stride, pad, ignore_border, mode):
    """Theano's pool_2d over the last two axes, one window at a time."""
    st = stride or ws
    h, w = x.shape[-2:]
    size = []
    for n, k, s, p in zip((h, w), ws, st, pad):
        if ignore_border:
            size.append(max(0, floordiv(n + 2 * p - k, s) + 1))
        elif s >= k:
            size.append(floordiv(n - 1, s) + 1)
        else:
            size.append(max(0, floordiv(n - 1 - k + s, s)) + 1)
    padded_h, padded_w = h + 2 * pad[0], w + 2 * pad[1]
    xp = np.zeros(x.shape[:-2] + (padded_h, padded_w))
    xp[..., pad[0]:pad[0] + h, pad[1]:pad[1] + w] = x
    out = np.zeros(x.shape[:-2] + tuple(size))
    for i in range(size[0]):
        for j in range(size[1]):
            r0, c0 = i * st[0], j * st[1]
            r1, c1 = min(r0 + ws[0], padded_h), min(c0 + ws[1], padded_w)
            if mode != "average_inc_pad":
                r0, c0 = max(r0, pad[0]), max(c0, pad[1])
                r1, c1 = min(r1, h + pad[0]), min(c1, w + pad[1])
            win = xp[..., r0:r1, c0:c1].reshape(x.shape[:-2] + (-1,))
            if mode == "max":
                out[..., i, j] = win.max(axis=-1)
            elif mode == "sum":
                out[..., i, j] = win.sum(axis=-1)
            else:
                out[..., i, j] = win.mean(axis=-1)
    return out


def pool_case(rng, ws, stride, pad, ignore_border, mode):
    x = rng.standard_normal((2, 3, 7, 6))
    attrs = {"ws": ws, "ignore_border": ignore_border, "mode": mode}
    if stride:
        attrs["stride"] = stride
    if pad != [0, 0]:
        attrs["pad"] = pad
    return {"op": "pool_2d", "attrs": attrs, "inputs": [tensor_json(x)],
            "output": tensor_json(pool_ref(x, ws, stride, pad, ignore_border, mode))}


def main():
    rng = np.random.default_rng(12)
    cases = []
    for border, sub, dil, groups, flip in itertools.product(
            ["valid", "full", "half", [1, 2]], [[1, 1], [2, 3]], [[1, 1], [2, 1]], [1, 2],
            [True, False]):
        cases.append(conv_case(rng, border, sub, dil, groups, flip))
    for ws, stride, pad, ignore_border, mode in itertools.product(
            [[2, 2], [3, 2]], [None, [1, 2], [3, 3]], [[0, 0], [1, 1]], [True, False],
            ["max", "sum", "average_inc_pad", "average_exc_pad"]):
        if pad != [0, 0] and not ignore_border:
            continue  # Theano refuses padding without ignore_border
        cases.append(pool_case(rng, ws, stride, pad, ignore_border, mode))
    json.dump({"generator": "tests/conv/make-refs.py", "cases": cases}, sys.stdout,
              separators=(",", ":"))
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
