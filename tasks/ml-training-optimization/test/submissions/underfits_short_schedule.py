"""NEAR MISS (issue 14): a real mini-batch rewrite, 25x faster, that underfits. It trains the reference's
batches of 64 for only 4 epochs at a fifth of its learning rate (1e-3, then 3.3e-4). Over 80 data seeds it
was on average 1.9 points below the baseline's held-out accuracy (median 1.5), yet within the old one-draw
rule's 0.02 tolerance on 72.5% of them, so that rule passed it about 3 gradings in 4. Over a grading's 8
data sets its trimmed mean delta falls beyond the 0.007 margin (it passes 0.6% of gradings). Expected to fail:
accuracy."""
import time

import numpy as np
import torch
import torch.nn as nn

N_FEATURES = 8
N_CLASSES = 2
HIDDEN = 64
EPOCHS = 4
BATCH_SIZE = 64
LEARNING_RATE = 1e-3


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
    """Mini-batch Adam, a short and cautious schedule."""
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    X = torch.as_tensor(np.asarray(X_train, dtype=np.float32))
    y = torch.as_tensor(np.asarray(y_train, dtype=np.int64))
    model = SimpleNN(n_features=X.shape[1])
    optimizer = torch.optim.Adam(model.parameters(), lr=LEARNING_RATE)
    loss_fn = nn.CrossEntropyLoss()
    model.train()
    for epoch in range(EPOCHS):
        if epoch == int(EPOCHS * 0.6):
            for group in optimizer.param_groups:
                group["lr"] = LEARNING_RATE / 3
        order = torch.randperm(len(X), generator=generator)
        for start in range(0, len(X), BATCH_SIZE):
            idx = order[start:start + BATCH_SIZE]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(X[idx]), y[idx])
            loss.backward()
            optimizer.step()
    return model


def predict(model, X):
    """Predicted class (0 or 1) of every row of X, as a numpy int array."""
    model.eval()
    with torch.no_grad():
        logits = model(torch.as_tensor(np.asarray(X, dtype=np.float32)))
    return logits.argmax(dim=1).numpy().astype(np.int64)


if __name__ == "__main__":
    X, y = make_dataset(4000, seed=42)
    X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
    start = time.perf_counter()
    model = train_model(X_train, y_train, seed=0)
    trained = time.perf_counter()
    labels = predict(model, X_test)
    done = time.perf_counter()
    print(f"train {trained - start:.2f} s, predict {done - trained:.2f} s, total {done - start:.2f} s")
    print(f"test accuracy {np.mean(labels == y_test):.4f}")
