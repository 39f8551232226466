"""Binary classifier on tabular data: hand-made features + a random forest.

It works, but it is slow. The grader imports this module and calls
    model = train_model(X_train, y_train, seed)
    labels = predict(model, X_test)
on data it generates itself, so keep those two functions (and
extract_features) with these signatures. Run this file directly to train and
evaluate on a local dataset.
"""
import math
import time

import numpy as np
from sklearn.ensemble import RandomForestClassifier

N_FEATURES = 8
N_TREES = 100
RADII = (1.5, 2.5)


def make_dataset(n_samples=2000, n_features=N_FEATURES, seed=42):
    """Synthetic data: labels from a random hidden 'teacher' network, 5% label noise."""
    rng = np.random.default_rng(seed)
    w1 = rng.normal(0.0, 1.0, (n_features, 4))
    b1 = rng.normal(0.0, 0.5, 4)
    w2 = rng.normal(0.0, 1.0, 4)
    X = rng.normal(0.0, 1.0, (n_samples, n_features))
    score = np.tanh(X @ w1 + b1) @ w2
    y = (score > np.median(score)).astype(np.int64)
    flip = rng.random(n_samples) < 0.05
    y[flip] = 1 - y[flip]
    return X.astype(np.float32), y


def extract_features(X, reference):
    """Feature matrix for the rows of X; `reference` is the training inputs.

    Per row: the raw values, their squares, all pairwise products, row
    statistics (mean, std, min, max); for each input column, the fraction of
    reference rows whose value in that column is <= the row's value (its
    percentile in the training data); and the fraction of reference rows
    within each of the Euclidean distances RADII of the row (local densities).
    """
    n, d = X.shape
    ref_rows = [[float(v) for v in r] for r in reference]
    m = len(ref_rows)
    rows = []
    for i in range(n):
        x = [float(v) for v in X[i]]
        feats = list(x)
        feats += [v * v for v in x]
        for j in range(d):
            for k in range(j + 1, d):
                feats.append(x[j] * x[k])
        mean = sum(x) / d
        feats.append(mean)
        feats.append(math.sqrt(sum((v - mean) ** 2 for v in x) / d))
        feats.append(min(x))
        feats.append(max(x))
        for j in range(d):
            below = 0
            for r in ref_rows:
                if r[j] <= x[j]:
                    below += 1
            feats.append(below / m)
        near = [0] * len(RADII)
        for r in ref_rows:
            dist2 = 0.0
            for j in range(d):
                diff = x[j] - r[j]
                dist2 += diff * diff
            for q, radius in enumerate(RADII):
                if dist2 <= radius * radius:
                    near[q] += 1
        feats += [count / m for count in near]
        rows.append(feats)
    return np.array(rows, dtype=np.float64)


def train_model(X_train, y_train, seed=0):
    """Fits the forest on the extracted features; returns what predict needs."""
    features = extract_features(X_train, X_train)
    forest = RandomForestClassifier(n_estimators=N_TREES, random_state=seed)
    forest.fit(features, y_train)
    return {"forest": forest, "reference": np.array(X_train, copy=True)}


def predict(model, X):
    """Predicted class (0 or 1) of every row of X, as a numpy int array."""
    features = extract_features(X, model["reference"])
    return model["forest"].predict(features).astype(np.int64)


if __name__ == "__main__":
    X, y = make_dataset(2000, seed=42)
    X_train, y_train, X_test, y_test = X[:1000], y[:1000], X[1000:], y[1000:]
    start = time.perf_counter()
    model = train_model(X_train, y_train, seed=0)
    trained = time.perf_counter()
    labels = predict(model, X_test)
    done = time.perf_counter()
    print(f"train {trained - start:.2f} s, predict {done - trained:.2f} s, total {done - start:.2f} s")
    print(f"test accuracy {np.mean(labels == y_test):.4f}")
