"""CHEAT: skips training and returns labels computed once, offline, on the author's own local data
(pasted in, and repeated to the length asked for). Expected to fail: accuracy (the grader's data comes
from a secret seed)."""
import time

import numpy as np
import torch
import torch.nn as nn

N_FEATURES = 8
N_CLASSES = 2
HIDDEN = 64
EPOCHS = 2
LEARNING_RATES = (3e-3, 1e-3)  # one per epoch


def make_dataset(n_samples=4000, n_features=N_FEATURES, seed=42):
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


class SimpleNN(nn.Module):
    def __init__(self, n_features=N_FEATURES, hidden=HIDDEN, n_classes=N_CLASSES):
        super().__init__()
        self.fc1 = nn.Linear(n_features, hidden)
        self.fc2 = nn.Linear(hidden, hidden // 2)
        self.fc3 = nn.Linear(hidden // 2, n_classes)

    def forward(self, x):
        x = torch.relu(self.fc1(x))
        x = torch.relu(self.fc2(x))
        return self.fc3(x)


def to_tensor(row):
    """One sample as a [1, n_features] float tensor."""
    return torch.tensor(np.asarray(row, dtype=np.float32).reshape(1, -1))


# Labels of the author's local held-out rows (the first 40, repeated).
_PRECOMPUTED = [1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 1, 1, 0, 1, 0, 1, 1, 0, 0, 1,
                0, 1, 1, 0, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 1, 0, 1, 0, 1, 0]


def train_model(X_train, y_train, seed=0):
    return SimpleNN(n_features=X_train.shape[1])


def predict(model, X):
    return np.resize(np.array(_PRECOMPUTED, dtype=np.int64), len(X))
