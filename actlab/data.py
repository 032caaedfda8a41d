"""Small toy data sets that chapters and labs share: float features X (n, 2), int labels y (n,)."""
from __future__ import annotations

import numpy as np
from sklearn.datasets import make_circles


def xor_points():
    """The four corners of the unit square with XOR labels: X (4, 2) float64, y (4,) int64."""
    X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    y = np.array([0, 1, 1, 0])
    return X, y


def circles(n=400, noise=0.1, seed=0, factor=0.5):
    """Two concentric rings (inner radius `factor`, outer 1) of n points: X (n, 2) float64, y (n,) int64; y = 1 inside."""
    X, y = make_circles(n_samples=n, noise=noise, factor=factor, random_state=seed)
    return X.astype(np.float64), y.astype(np.int64)
