#!/usr/bin/env python3
"""Writes data/examples/datasets/iris.csv and digits.csv from the copies scikit-learn ships
(Debian: apt-get install python3-sklearn), adding header rows. Standard library
only; sklearn is not imported, its data folder is found on the Python path.
See data/examples/datasets/LICENSES.md for where the data come from."""
import csv
import gzip
import os
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(ROOT, "data", "examples", "datasets")


def sklearn_data_dir():
    for p in sys.path + ["/usr/lib/python3/dist-packages"]:
        d = os.path.join(p, "sklearn", "datasets", "data")
        if os.path.isfile(os.path.join(d, "iris.csv")):
            return d
    sys.exit("make-datasets: scikit-learn's data not found (apt-get install python3-sklearn)")


def main():
    src = sklearn_data_dir()
    with open(os.path.join(src, "iris.csv")) as f:
        rows = list(csv.reader(f))[1:]  # the first line holds counts and class names
    with open(os.path.join(OUT, "iris.csv"), "w") as f:
        f.write("sepal_length,sepal_width,petal_length,petal_width,species\n")
        for r in rows:
            f.write(",".join(r[:4]) + "," + str(int(r[4])) + "\n")
    with gzip.open(os.path.join(src, "digits.csv.gz"), "rt") as f:
        rows = list(csv.reader(f))
    with open(os.path.join(OUT, "digits.csv"), "w") as f:
        f.write(",".join([f"p{i}" for i in range(64)] + ["digit"]) + "\n")
        for r in rows:
            f.write(",".join(str(int(float(v))) for v in r) + "\n")


if __name__ == "__main__":
    main()
