#!/usr/bin/env python3
"""The Theano tutorial's logistic regression ("a real example") trains to
PyTorch's weights.

tests/data/logreg-tutorial.gradus is the tutorial's program node for node:
p_1 = 1 / (1 + exp(-x.w - b)), xent = -y log(p_1) - (1 - y) log(1 - p_1),
cost = mean(xent) + 0.01 sum(w ** 2), w -= 0.1 dcost/dw, b -= 0.1 dcost/db,
on 400 x 784 random data (numpy.random.RandomState(1234), as the tutorial's
rng), float64, 50 steps instead of 10000. `gradus run` trains it on each
back end; the weights must match PyTorch's autograd (Debian's python3-torch)
and NumPy with the gradient derived by hand, to 1e-9 relative.

First run: w starts at 0.01 randn, where every formula is exact. Second run:
w starts at randn, as the tutorial writes it. Then |x.w| reaches 84, p_1
rounds to 1.0 and log(1 - p_1) is -inf in float64: PyTorch's cost is NaN with
this formula. Gradus, like Theano, rewrites 1 / (1 + exp(-z)) into sigmoid(z)
and log(1 - sigmoid(z)) into -softplus(z), and differentiates log of any form
of sigmoid in one stable step, so it must match NumPy's weights computed with
softplus and sigmoid written stably by hand.

Speaks TAP. Usage: test-logreg-tutorial.py --gradus EXE --source-dir DIR
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile

try:
    import numpy as np
except ImportError:
    # meson may have found a python3 without Debian's packages (a pyenv shim);
    # Debian's own interpreter has python3-numpy and python3-torch
    if os.path.exists("/usr/bin/python3") and os.path.realpath(sys.executable) != "/usr/bin/python3":
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    raise

try:
    import torch
except ImportError:
    torch = None

STEPS = 50
RATE = 0.1
DECAY = 0.01
RTOL = 1e-9


def make_data(directory):
    rng = np.random.RandomState(1234)
    n, feats = 400, 784
    x = rng.randn(n, feats)
    y = rng.randint(size=n, low=0, high=2).astype(np.float64)
    w0 = 0.01 * rng.randn(feats)
    np.save(os.path.join(directory, "logreg-x.npy"), x)
    np.save(os.path.join(directory, "logreg-y.npy"), y)
    np.save(os.path.join(directory, "logreg-w0.npy"), w0)
    return x, y, w0


def train_numpy(x, y, w0):
    """The gradient by hand: dcost/dw = x^T (p_1 - y) / n + 2 * 0.01 w."""
    w, b = w0.copy(), 0.0
    n = x.shape[0]
    cost = None
    for _ in range(STEPS):
        p = 1.0 / (1.0 + np.exp(-x.dot(w) - b))
        xent = -y * np.log(p) - (1 - y) * np.log(1 - p)
        cost = xent.mean() + DECAY * (w ** 2).sum()
        gw = x.T.dot(p - y) / n + 2 * DECAY * w
        gb = (p - y).mean()
        w, b = w - RATE * gw, b - RATE * gb
    return w, b, cost


def softplus(z):
    return np.logaddexp(0.0, z)


def train_numpy_stable(x, y, w0):
    """The same training, with the cost written in softplus form."""
    w, b = w0.copy(), 0.0
    n = x.shape[0]
    cost = None
    for _ in range(STEPS):
        z = x.dot(w) + b
        xent = y * softplus(-z) + (1 - y) * softplus(z)
        cost = xent.mean() + DECAY * (w ** 2).sum()
        p = 0.5 * (1.0 + np.tanh(0.5 * z))
        gw = x.T.dot(p - y) / n + 2 * DECAY * w
        gb = (p - y).mean()
        w, b = w - RATE * gw, b - RATE * gb
    return w, b, cost


def train_torch(x, y, w0):
    xt = torch.tensor(x, dtype=torch.float64)
    yt = torch.tensor(y, dtype=torch.float64)
    w = torch.tensor(w0, dtype=torch.float64, requires_grad=True)
    b = torch.tensor(0.0, dtype=torch.float64, requires_grad=True)
    cost = None
    for _ in range(STEPS):
        p = 1 / (1 + torch.exp(-xt.matmul(w) - b))
        xent = -yt * torch.log(p) - (1 - yt) * torch.log(1 - p)
        c = xent.mean() + DECAY * (w ** 2).sum()
        gw, gb = torch.autograd.grad(c, [w, b])
        with torch.no_grad():
            w -= RATE * gw
            b -= RATE * gb
        cost = c.item()
    return w.detach().numpy(), b.item(), cost


def train_gradus(gradus, path, backend):
    out = subprocess.run([gradus, "run", path, "--steps", str(STEPS), "--print", "last",
                          "--backend", backend],
                         capture_output=True, text=True, timeout=600)
    if out.returncode != 0:
        raise RuntimeError("gradus run failed: " + out.stderr.strip())
    line = json.loads(out.stdout.strip().splitlines()[-1])
    return np.array(line["shared"]["w"]), float(line["shared"]["b"]), float(line["outputs"][0])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--gradus", required=True)
    ap.add_argument("--source-dir", required=True)
    args = ap.parse_args()
    directory = tempfile.mkdtemp(prefix="gradus-logreg-")
    try:
        src = os.path.join(args.source_dir, "tests", "data", "logreg-tutorial.gradus")
        path = os.path.join(directory, "logreg-tutorial.gradus")
        shutil.copy(src, path)
        x, y, w0 = make_data(directory)
        refs = [("numpy (gradient by hand)", train_numpy(x, y, w0))]
        if torch is not None:
            refs.append(("pytorch %s (autograd)" % torch.__version__, train_torch(x, y, w0)))
        # the two references agree with each other first
        checks = []
        if len(refs) == 2:
            (_, (wa, ba, ca)), (_, (wb, bb, cb)) = refs
            checks.append(("numpy and pytorch agree", np.abs(wa - wb).max(), abs(ba - bb),
                           abs(ca - cb), np.abs(wa).max()))
        # the weights moved: a zero gradient of the cross-entropy would leave
        # only the weight decay
        w_ref, b_ref, _ = refs[-1][1]
        decay_only = w0 * (1 - RATE * 2 * DECAY) ** STEPS
        moved = np.abs(w_ref - decay_only).max()
        for backend in ("cpu", "vulkan"):
            w, b, cost = train_gradus(args.gradus, path, backend)
            for name, (wr, br, cr) in refs:
                checks.append(("gradus --backend %s against %s" % (backend, name),
                               np.abs(w - wr).max(), abs(b - br), abs(cost - cr),
                               np.abs(wr).max()))
        # the tutorial as written: w starts at randn, the sigmoid saturates
        w_tutorial = w0 / 0.01
        wr, br, cr = train_numpy_stable(x, y, w_tutorial)
        np.save(os.path.join(directory, "logreg-w0.npy"), w_tutorial)
        torch_nan = None
        if torch is not None:
            torch_nan = not np.isfinite(train_torch(x, y, w_tutorial)[2])
        for backend in ("cpu", "vulkan"):
            # the cost's forward is stable on both: the CPU compiler's
            # stabilising rewrites run before Vulkan compiles the graph too
            w, b, cost = train_gradus(args.gradus, path, backend)
            name = "as written (w = randn): gradus --backend %s finite and equal to numpy in softplus form" % backend
            if not np.all(np.isfinite(w)) or not np.isfinite(cost):
                checks.append((name, float("inf"), float("inf"), float("inf"), 1.0))
            else:
                checks.append((name, np.abs(w - wr).max(), abs(b - br),
                               abs(cost - cr) / (1 + abs(cr)), np.abs(wr).max()))
        print("1..%d" % (len(checks) + 1))
        n = 1
        print("%s %d - the data term moves the weights (%.3g beyond weight decay alone)"
              % ("ok" if moved > 1e-2 else "not ok", n, moved))
        failed = moved <= 1e-2
        for name, dw, db, dc, scale in checks:
            n += 1
            good = dw <= RTOL * (1 + scale) and db <= RTOL and dc <= RTOL
            failed |= not good
            print("%s %d - %s: max |dw| %.3g, |db| %.3g, |dcost| %.3g"
                  % ("ok" if good else "not ok", n, name, dw, db, dc))
        if torch_nan is not None:
            print("# as written, pytorch's cost is %s" % ("NaN (log(1 - p) of a saturated sigmoid)" if torch_nan else "finite"))
        if torch is None:
            print("# python3-torch is not installed: checked against NumPy only")
        return 1 if failed else 0
    finally:
        shutil.rmtree(directory)


if __name__ == "__main__":
    sys.exit(main())
