"""compare.py: `gradus run` lines against another engine's, within float tolerance."""
import math


def _flat(v):
    if isinstance(v, list):
        for e in v:
            yield from _flat(e)
    else:
        yield v


def _num(x):
    if isinstance(x, str):
        return float(x)
    return float(x) if not isinstance(x, bool) else float(x)


def _shape(v):
    s = []
    while isinstance(v, list):
        s.append(len(v))
        v = v[0] if v else None
    return s


def close(a, b, rtol, atol):
    """Nested lists of numbers (or "nan"/"inf" strings) of the same shape."""
    if _shape(a) != _shape(b):
        return False
    for x, y in zip(_flat(a), _flat(b)):
        x, y = _num(x), _num(y)
        if math.isnan(x) or math.isnan(y):
            if not (math.isnan(x) and math.isnan(y)):
                return False
        elif math.isinf(x) or math.isinf(y):
            if x != y:
                return False
        elif abs(x - y) > atol + rtol * abs(y):
            return False
    return True


def compare_lines(expected, got, rtol, atol, label):
    """Returns a list of differences (empty when they agree)."""
    problems = []
    if len(expected) != len(got):
        return ["%s: %d lines, expected %d" % (label, len(got), len(expected))]
    for e, g in zip(expected, got):
        step = e.get("step")
        if len(e["outputs"]) != len(g["outputs"]):
            problems.append("%s step %s: %d outputs, expected %d"
                            % (label, step, len(g["outputs"]), len(e["outputs"])))
            continue
        for i, (x, y) in enumerate(zip(e["outputs"], g["outputs"])):
            if not close(y, x, rtol, atol):
                problems.append("%s step %s output %d: %s, expected %s"
                                % (label, step, i, str(y)[:200], str(x)[:200]))
        for k, x in e.get("shared", {}).items():
            if k not in g.get("shared", {}):
                problems.append("%s step %s: shared '%s' missing" % (label, step, k))
            elif not close(g["shared"][k], x, rtol, atol):
                problems.append("%s step %s shared %s: %s, expected %s"
                                % (label, step, k, str(g["shared"][k])[:200], str(x)[:200]))
    return problems
