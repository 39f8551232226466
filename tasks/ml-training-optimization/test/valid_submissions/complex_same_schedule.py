"""VALID: the complex variant with its three loops vectorized (normalization statistics computed once in fit,
the activation on the whole tensor, the per-sample gradient norms in one expression) and the training
schedule left exactly as it was: batches of 8, 3 epochs. Same model, fewer Python calls. Expected to pass.
"""
import time

import numpy as np
import torch
import torch.nn as nn

N_FEATURES = 8
N_CLASSES = 2
HIDDEN = 64
EPOCHS = 3
BATCH_SIZE = 8
LEARNING_RATE = 2e-3


def make_dataset(n_samples=3000, n_features=N_FEATURES, seed=42):
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


class ComplexFeatureExtractor:
    """Expands the inputs (raw, squares, pairwise products) and z-scores every
    expanded column with the statistics of the training data."""

    def fit(self, X):
        self.reference_ = self.expand(X)
        self.mean_ = self.reference_.mean(axis=0)
        self.std_ = self.reference_.std(axis=0) + 1e-8
        return self

    def expand(self, X):
        X = np.asarray(X, dtype=np.float64)
        d = X.shape[1]
        pairs = [X[:, j] * X[:, k] for j in range(d) for k in range(j + 1, d)]
        return np.column_stack([X, X ** 2] + pairs)

    def custom_normalize(self, features):
        """z-score each row with the column mean and std of the training features."""
        return (features - self.mean_) / self.std_

    def transform(self, X):
        return self.custom_normalize(self.expand(X)).astype(np.float32)


class ComplexNN(nn.Module):
    def __init__(self, n_inputs, hidden=HIDDEN, n_classes=N_CLASSES):
        super().__init__()
        self.fc1 = nn.Linear(n_inputs, hidden)
        self.fc2 = nn.Linear(hidden, hidden)
        self.out = nn.Linear(hidden, n_classes)

    def custom_activation(self, x):
        """A smooth gated unit, x * sigmoid(1.5 x) + 0.1 tanh(x), applied row by row."""
        return x * torch.sigmoid(1.5 * x) + 0.1 * torch.tanh(x)

    def forward(self, x):
        x = self.custom_activation(self.fc1(x))
        x = self.custom_activation(self.fc2(x))
        self.last_hidden = x  # the output layer's input, used by per_sample_grad_norms
        return self.out(x)


def per_sample_grad_norms(model, logits, targets):
    """For monitoring: the norm of each sample's loss gradient with respect to
    the output layer's weights, (softmax(logits) - onehot(target)) outer hidden."""
    delta = torch.softmax(logits.detach(), dim=1) - nn.functional.one_hot(targets, logits.shape[1])
    return (delta.norm(dim=1) * model.last_hidden.detach().norm(dim=1)).tolist()


def train_model(X_train, y_train, seed=0):
    """Fits the feature extractor and trains ComplexNN; returns what predict needs."""
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    extractor = ComplexFeatureExtractor().fit(X_train)
    features = torch.from_numpy(extractor.transform(X_train))
    targets = torch.as_tensor(np.asarray(y_train, dtype=np.int64))
    model = ComplexNN(features.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    model.grad_norm_history = []
    for epoch in range(EPOCHS):
        order = rng.permutation(len(features))
        for start in range(0, len(order), BATCH_SIZE):
            idx = torch.as_tensor(order[start:start + BATCH_SIZE])
            xb, yb = features[idx], targets[idx]
            optimizer.zero_grad()
            logits = model(xb)
            loss = loss_fn(logits, yb)
            loss.backward()
            optimizer.step()
            norms = per_sample_grad_norms(model, logits, yb)
            model.grad_norm_history.append(sum(norms) / len(norms))
    return {"extractor": extractor, "net": model}


def predict(model, X):
    """Predicted class (0 or 1) of every row of X, as a numpy int array."""
    features = torch.from_numpy(model["extractor"].transform(X))
    net = model["net"]
    with torch.no_grad():
        return net(features).argmax(dim=1).numpy().astype(np.int64)

