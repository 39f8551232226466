"""VALID (issue 14): the pytorch variant rewritten the way the official PyTorch examples (examples/mnist)
structure training: an `args` namespace of hyperparameters, `train(args, model, device, train_loader,
optimizer, epoch)` called once per epoch, a `DataLoader` built from a kwargs dict (`**train_kwargs`), an
Adadelta optimizer stepped down by `StepLR` after every epoch, and a model that returns log-probabilities
scored with `F.nll_loss`. Batches of 64 for 15 epochs replace the 4,000 single-row steps; predict is one
batched forward pass. Expected to pass."""
import argparse
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.optim.lr_scheduler import StepLR
from torch.utils.data import DataLoader, TensorDataset

N_FEATURES = 8
N_CLASSES = 2
HIDDEN = 64


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
        x = F.relu(self.fc1(x))
        x = F.relu(self.fc2(x))
        x = self.fc3(x)
        output = F.log_softmax(x, dim=1)
        return output


def default_args(seed):
    """The examples parse these from the command line; here they are fixed, with the seed from the caller."""
    return argparse.Namespace(batch_size=64, test_batch_size=1000, epochs=15, lr=1.0, gamma=0.9,
                              log_interval=0, dry_run=False, seed=seed)


def train(args, model, device, train_loader, optimizer, epoch):
    model.train()
    for batch_idx, (data, target) in enumerate(train_loader):
        data, target = data.to(device), target.to(device)
        optimizer.zero_grad()
        output = model(data)
        loss = F.nll_loss(output, target)
        loss.backward()
        optimizer.step()
        if args.log_interval and batch_idx % args.log_interval == 0:
            print(f"Train Epoch: {epoch} [{batch_idx * len(data)}/{len(train_loader.dataset)}]\tLoss: {loss.item():.6f}")
        if args.dry_run:
            break


def train_model(X_train, y_train, seed=0):
    args = default_args(seed)
    torch.manual_seed(args.seed)
    device = torch.device("cpu")
    train_kwargs = {"batch_size": args.batch_size, "shuffle": True,
                    "generator": torch.Generator().manual_seed(args.seed)}
    dataset = TensorDataset(torch.from_numpy(np.ascontiguousarray(X_train, dtype=np.float32)),
                            torch.from_numpy(np.ascontiguousarray(y_train, dtype=np.int64)))
    train_loader = DataLoader(dataset, **train_kwargs)
    model = SimpleNN(n_features=X_train.shape[1]).to(device)
    optimizer = torch.optim.Adadelta(model.parameters(), lr=args.lr)
    scheduler = StepLR(optimizer, step_size=1, gamma=args.gamma)
    for epoch in range(1, args.epochs + 1):
        train(args, model, device, train_loader, optimizer, epoch)
        scheduler.step()
    return model


def predict(model, X):
    model.eval()
    with torch.no_grad():
        output = model(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    pred = output.argmax(dim=1)
    return pred.numpy().astype(np.int64)


if __name__ == "__main__":
    X, y = make_dataset(4000, seed=42)
    X_train, y_train, X_test, y_test = X[:2000], y[:2000], X[2000:], y[2000:]
    start = time.perf_counter()
    model = train_model(X_train, y_train, seed=0)
    labels = predict(model, X_test)
    print(f"total {time.perf_counter() - start:.2f} s, test accuracy {np.mean(labels == y_test):.4f}")
