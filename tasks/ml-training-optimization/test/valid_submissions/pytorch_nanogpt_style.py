"""VALID (issue 14): the pytorch variant trained the way nanoGPT-style training scripts do it: module-level
config, an iteration budget instead of epochs, `get_batch` sampling random rows with replacement, AdamW
with a linear warmup then cosine decay to a floor (`get_lr(it)` sets every param group's lr each
iteration), gradient clipping, and `zero_grad(set_to_none=True)`. 500 iterations of 64 rows; predict is one
batched forward pass. Expected to pass."""
import math
import time

import numpy as np
import torch
import torch.nn as nn
from torch.nn import functional as F

N_FEATURES = 8
N_CLASSES = 2
HIDDEN = 64

# -----------------------------------------------------------------------------
# config
batch_size = 64
max_iters = 500
learning_rate = 1e-2
min_lr = 1e-3  # about learning_rate / 10
warmup_iters = 25
lr_decay_iters = max_iters
weight_decay = 1e-4
beta1, beta2 = 0.9, 0.99
grad_clip = 1.0  # clip gradients at this value, or disable if == 0.0
# -----------------------------------------------------------------------------


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

    def forward(self, x, targets=None):
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        logits = self.fc3(x)
        loss = None if targets is None else F.cross_entropy(logits, targets)
        return logits, loss


def get_lr(it):
    # 1) linear warmup for warmup_iters steps
    if it < warmup_iters:
        return learning_rate * (it + 1) / (warmup_iters + 1)
    # 2) if it > lr_decay_iters, return min learning rate
    if it > lr_decay_iters:
        return min_lr
    # 3) in between, use cosine decay down to min learning rate
    decay_ratio = (it - warmup_iters) / (lr_decay_iters - warmup_iters)
    coeff = 0.5 * (1.0 + math.cos(math.pi * decay_ratio))  # coeff ranges 0..1
    return min_lr + coeff * (learning_rate - min_lr)


def train_model(X_train, y_train, seed=0):
    torch.manual_seed(seed)
    g = torch.Generator().manual_seed(seed)
    data = torch.from_numpy(np.ascontiguousarray(X_train, dtype=np.float32))
    targets = torch.from_numpy(np.ascontiguousarray(y_train, dtype=np.int64))

    def get_batch():
        ix = torch.randint(len(data), (batch_size,), generator=g)
        return data[ix], targets[ix]

    model = SimpleNN(n_features=data.shape[1])
    optimizer = torch.optim.AdamW(model.parameters(), lr=learning_rate, betas=(beta1, beta2), weight_decay=weight_decay)
    model.train()
    X, Y = get_batch()
    for iter_num in range(max_iters):
        lr = get_lr(iter_num)
        for param_group in optimizer.param_groups:
            param_group["lr"] = lr
        _, loss = model(X, Y)
        X, Y = get_batch()  # fetch the next batch while this one's graph is alive, as the original does
        loss.backward()
        if grad_clip != 0.0:
            torch.nn.utils.clip_grad_norm_(model.parameters(), grad_clip)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
    return model


@torch.no_grad()
def predict(model, X):
    model.eval()
    logits, _ = model(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    return logits.argmax(dim=-1).numpy().astype(np.int64)


if __name__ == "__main__":
    X, y = make_dataset(4000, seed=42)
    X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
    t0 = time.perf_counter()
    model = train_model(X_train, y_train, seed=0)
    labels = predict(model, X_test)
    print(f"total {time.perf_counter() - t0:.2f} s, test accuracy {np.mean(labels == y_test):.4f}")
