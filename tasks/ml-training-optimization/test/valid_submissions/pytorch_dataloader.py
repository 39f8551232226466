"""VALID: a different correct optimization of the pytorch variant: a seeded DataLoader over a TensorDataset,
batches of 32 for 10 epochs at a constant learning rate, and one batched forward pass to predict.
Expected to pass."""
import time

import numpy as np
import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

N_FEATURES = 8
N_CLASSES = 2
HIDDEN = 64
EPOCHS = 10
BATCH_SIZE = 32
LEARNING_RATE = 3e-3


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


def train_model(X_train, y_train, seed=0):
    torch.manual_seed(seed)
    data = TensorDataset(torch.tensor(X_train, dtype=torch.float32), torch.tensor(y_train, dtype=torch.int64))
    loader = DataLoader(data, batch_size=BATCH_SIZE, shuffle=True, generator=torch.Generator().manual_seed(seed))
    model = SimpleNN(n_features=X_train.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(EPOCHS):
        for xb, yb in loader:
            optimizer.zero_grad()
            loss_fn(model(xb), yb).backward()
            optimizer.step()
    return model


def predict(model, X):
    model.eval()
    with torch.no_grad():
        return model(torch.tensor(X, dtype=torch.float32)).argmax(dim=1).numpy().astype(np.int64)
