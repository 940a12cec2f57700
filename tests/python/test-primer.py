#!/usr/bin/env python3
"""The Theano primer's three listings in Python, through GObject introspection:
`from gi.repository import Gradus`, NumPy arrays in and out (as bytes). Each
listing must give the primer's numbers; those of listing 3 are the README's.
Run with GI_TYPELIB_PATH and LD_LIBRARY_PATH pointing at the build (meson
test does). TAP.

usage: test-primer.py data/examples/primer-3-linear-regression.gradus"""
import sys

import gi
import numpy as np

gi.require_version("Gradus", "1.0")
from gi.repository import GLib, Gradus  # noqa: E402

results = []
EXAMPLE = sys.argv[1]


def check(name, cond, detail=""):
    results.append((name, cond, detail))


F64 = Gradus.DType.FLOAT64
NUMPY_DTYPES = {Gradus.DType.FLOAT64: np.float64, Gradus.DType.FLOAT32: np.float32,
                Gradus.DType.INT64: np.int64, Gradus.DType.INT32: np.int32,
                Gradus.DType.BOOL: np.bool_}


def tensor(array, dtype=F64):
    """A Gradus tensor holding a copy of a NumPy array."""
    a = np.array(array, dtype=NUMPY_DTYPES[dtype], order="C")
    return Gradus.Tensor.new_from_bytes(dtype, list(a.shape), GLib.Bytes.new(a.tobytes()))


def array(t):
    """A NumPy array holding a copy of a Gradus tensor."""
    data = t.get_bytes().get_data()
    return np.frombuffer(data, NUMPY_DTYPES[t.dtype]).reshape(t.get_shape()).copy()


# Listing 1: x = T.dvector('x'); y = T.dvector('y'); f = function([x, y], x + y)
g = Gradus.Graph.new()
x = g.variable("x", F64, [Gradus.DIM_UNKNOWN])
y = g.variable("y", F64, [Gradus.DIM_UNKNOWN])
z = g.op(None, "add", [x, y], None)
f = Gradus.Function.new(g, [x, y], [z], [])
(out,) = f.call([tensor([1.0, 2.0]), tensor([3.0, 4.0])])
got = array(out)
check("listing_1_vector_add", got.dtype == np.float64 and got.tolist() == [4.0, 6.0], got)

# Listing 2: gy = T.grad(T.sum(x ** 2), x); f = function([x], gy)
g = Gradus.Graph.new()
x = g.variable("x", F64, [Gradus.DIM_UNKNOWN])
cost = g.op(None, "sum", [g.op(None, "pow", [x, g.add_scalar(F64, 2.0)], None)], None)
(gx,) = g.grad("g", cost, [x], [])
f = Gradus.Function.new(g, [x], [gx], [])
(out,) = f.call([tensor(np.array([1.0, 2.0]))])
check("listing_2_grad_sum_x2", array(out).tolist() == [2.0, 4.0], array(out))
(out,) = f.call([tensor(np.linspace(-1.0, 1.0, 5))])
check("listing_2_is_2x", np.array_equal(array(out), 2 * np.linspace(-1.0, 1.0, 5)), array(out))

# Listing 3: linear regression with shared a, b and updates; the README's numbers.
g = Gradus.Graph.new()
x = g.variable("x", F64, [])
t = g.variable("t", F64, [])
a = g.shared("a", tensor(-1.0))
b = g.shared("b", tensor(0.0))
y = g.op(None, "add", [g.op(None, "mul", [a, x], None), b], None)
mse = g.op(None, "pow", [g.op(None, "sub", [y, t], None), g.add_scalar(F64, 2.0)], None)
ga, gb = g.grad("g", mse, [a, b], [])
lr = g.add_scalar(F64, 0.01)
updates = [Gradus.Update.new(a, g.op(None, "sub", [a, g.op(None, "mul", [lr, ga], None)], None)),
           Gradus.Update.new(b, g.op(None, "sub", [b, g.op(None, "mul", [lr, gb], None)], None))]
train = Gradus.Function.new(g, [x, t], [mse], updates)
losses = [array(train.call([tensor(1.0), tensor(5.0)])[0]).item() for _ in range(10)]
want, wa, wb = [], -1.0, 0.0
for _ in range(10):
    err = wa * 1.0 + wb - 5.0
    want.append(err ** 2)
    wa, wb = wa - 0.01 * (2.0 * err), wb - 0.01 * (2.0 * err)
check("listing_3_mse_per_call", losses == want and losses[:2] == [36.0, 33.1776],
      f"got {losses}, want {want}")
fa, fb = array(g.get_value(a)).item(), array(g.get_value(b)).item()
check("listing_3_final_a_b", fa == 0.005502092025496813 and fb == 1.005502092025497,
      f"got a={fa!r} b={fb!r}")

# Errors arrive as GLib.Error in the Gradus domain, naming the node.
try:
    g.op("bad", "matmul_nope", [x], None)
    check("unknown_op_raises", False, "no error")
except GLib.Error as e:
    check("unknown_op_raises", e.matches(Gradus.error_quark(), Gradus.ErrorCode.GRAPH)
          and "'bad'" in e.message, e.message)
try:
    train.call([tensor(1.0)])
    check("wrong_input_count_raises", False, "no error")
except GLib.Error as e:
    check("wrong_input_count_raises", "takes 2" in e.message, e.message)
try:
    Gradus.Tensor.new_from_bytes(F64, [3], GLib.Bytes.new(b"\0" * 16))
    check("short_bytes_raise", False, "no error")
except GLib.Error as e:
    check("short_bytes_raise", "needs 24" in e.message, e.message)

# Attributes: a sum over axis 1 of a 2x3 matrix.
g2 = Gradus.Graph.new()
m = g2.variable("m", F64, [2, 3])
attrs = Gradus.Attrs.new()
attrs.set_axes([1])
rows = g2.op("rows", "sum", [m], attrs)
(out,) = Gradus.Function.new(g2, [m], [rows], []).call([tensor(np.arange(6.0).reshape(2, 3))])
check("attrs_axes_sum_rows", array(out).tolist() == [3.0, 12.0], array(out))

# A graph file: the primer's listing 3 as the example ships it.
doc = Gradus.Document.load(EXAMPLE)
fn = doc.function()
ref = doc.graph().lookup("a")
fn.call([tensor(1.0), tensor(5.0)])
check("document_function_updates_shared",
      array(doc.graph().get_value(ref)).item() == -0.88, array(doc.graph().get_value(ref)))
check("document_function_names", doc.function_names() == ["main"], doc.function_names())
del doc, fn, ref, g2, attrs, rows

# Shapes and dtypes survive the trip, and nothing leaks once dropped.
m = tensor(np.arange(6, dtype=np.int32).reshape(2, 3), Gradus.DType.INT32)
check("matrix_round_trip", m.get_shape() == [2, 3] and m.describe() == "int32[2,3]"
      and np.array_equal(array(m), np.arange(6).reshape(2, 3)), m.describe())
del f, train, g, out, m, a, b, x, y, t, z, gx, ga, gb, updates, cost, mse, lr
import gc  # noqa: E402
gc.collect()
check("no_tensor_leaks", Gradus.tensor_live_count() == 0, Gradus.tensor_live_count())

print(f"1..{len(results)}")
for i, (name, cond, detail) in enumerate(results, 1):
    print(f"{'ok' if cond else 'not ok'} {i} - {name}")
    if not cond:
        print(f"# {detail}")
sys.exit(0 if all(c for _, c, _ in results) else 1)
