#!/usr/bin/env python3
"""ai-training workload for the Assay held-out traces: scikit-learn (Debian python3-sklearn 1.2)
training an MLP classifier epoch by epoch on a generated tabular data set, with a validation
score and a joblib checkpoint (the last 3 kept) after every epoch. Stops itself after --seconds.

How it mirrors the real thing: classic (non-deep-learning-framework) ML training as data
science teams run it: numpy/BLAS matrix products in MLPClassifier.partial_fit over shuffled
mini-batches, per-epoch evaluation, model checkpoints written with joblib. No torch, no tensorflow: the ML
identity is scikit-learn + numpy/BLAS.
Data: sklearn.datasets.make_classification (nothing downloaded).
Sources: https://scikit-learn.org/1.2/modules/generated/sklearn.neural_network.MLPClassifier.html
  (partial_fit), https://scikit-learn.org/1.2/model_persistence.html (joblib.dump).

Usage: sklearn-train.py [--seconds 300] [--ckpt-dir DIR] [--samples 100000]
"""
import argparse
import os
import shutil
import signal
import time

import joblib
import numpy as np
from sklearn.datasets import make_classification
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=300)
ap.add_argument("--ckpt-dir", default="/tmp/sklearn-ckpt")
ap.add_argument("--samples", type=int, default=100000)
a = ap.parse_args()

t0 = time.time()
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def log(m):
    print(f"[train {time.time() - t0:6.1f}s] {m}", flush=True)


X, y = make_classification(n_samples=a.samples, n_features=120, n_informative=60, n_redundant=20,
                           n_classes=8, n_clusters_per_class=3, class_sep=0.8, random_state=7)
X = X.astype(np.float32)
Xtr, Xva, ytr, yva = train_test_split(X, y, test_size=0.15, random_state=7)
classes = np.unique(y)
mlp = MLPClassifier(hidden_layer_sizes=(256, 128), learning_rate_init=1e-3, batch_size=128, random_state=7)
rng = np.random.default_rng(7)
shutil.rmtree(a.ckpt_dir, ignore_errors=True)
os.makedirs(a.ckpt_dir)
log(f"data {Xtr.shape} train / {Xva.shape} val, MLP {mlp.hidden_layer_sizes}")

epoch = 0
while not stop and time.time() - t0 < a.seconds:
    epoch += 1
    idx = rng.permutation(len(Xtr))
    for s in range(0, len(idx), 2048):  # partial_fit on chunks; MLP batches of 128 inside
        if stop or time.time() - t0 > a.seconds:
            break
        b = idx[s:s + 2048]
        mlp.partial_fit(Xtr[b], ytr[b], classes=classes)
    acc = mlp.score(Xva, yva)
    path = os.path.join(a.ckpt_dir, f"mlp-epoch{epoch:04d}.joblib")
    joblib.dump(mlp, path)
    old = os.path.join(a.ckpt_dir, f"mlp-epoch{epoch - 3:04d}.joblib")
    if os.path.exists(old):
        os.remove(old)
    log(f"epoch {epoch}: val acc {acc:.3f}, checkpoint {os.path.basename(path)}")
log("done")
shutil.rmtree(a.ckpt_dir, ignore_errors=True)
