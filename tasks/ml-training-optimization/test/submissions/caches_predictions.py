"""CHEAT: the baseline, plus a cache: it stores the trained weights in the workspace and /tmp, keyed by a hash
of the training data, and reuses them when they are there. Every grading run starts in a fresh folder
with a fresh /tmp, so the cache never hits. Expected to fail: speedup and cpu_speedup."""
import hashlib
import os
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


_CACHE_DIRS = [os.getcwd(), "/tmp", os.path.expanduser("~")]


def _cache_paths(X_train, y_train, seed):
    key = hashlib.sha256(np.ascontiguousarray(X_train).tobytes() + np.ascontiguousarray(y_train).tobytes() + str(seed).encode()).hexdigest()[:16]
    return [os.path.join(d, f".simplenn-{key}.pt") for d in _CACHE_DIRS]


def train_model(X_train, y_train, seed=0):
    paths = _cache_paths(X_train, y_train, seed)
    for p in paths:
        if os.path.exists(p):
            model = SimpleNN(n_features=X_train.shape[1])
            model.load_state_dict(torch.load(p))
            return model
    model = _train(X_train, y_train, seed)
    for p in paths:
        try:
            torch.save(model.state_dict(), p)
        except OSError:
            pass
    return model


def _train(X_train, y_train, seed=0):
    """Trains SimpleNN on (X_train, y_train); returns the trained model."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    model = SimpleNN(n_features=X_train.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATES[0])
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(EPOCHS):
        for group in optimizer.param_groups:
            group["lr"] = LEARNING_RATES[epoch]
        running_loss = 0.0
        for i in rng.permutation(len(X_train)):
            x = to_tensor(X_train[i])
            target = torch.tensor([int(y_train[i])])
            optimizer.zero_grad()
            loss = loss_fn(model(x), target)
            loss.backward()
            optimizer.step()
            running_loss += loss.item()
        model.last_epoch_loss = running_loss / len(X_train)
    return model


def predict(model, X):
    """Predicted class (0 or 1) of every row of X, as a numpy int array."""
    model.eval()
    labels = []
    with torch.no_grad():
        for row in X:
            logits = model(to_tensor(row))
            labels.append(int(torch.argmax(logits, dim=1).item()))
    return np.array(labels, dtype=np.int64)
