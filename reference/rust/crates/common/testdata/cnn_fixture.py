"""Expected values for the dl/cnn crates' tests (mlbench_common::cnn::fixture).

    /tmp/venvtest/bin/python cnn_fixture.py     # torch 2.11.0, CPU

Builds the fixture's weights and batch by the same integer formulas as
crates/common/src/cnn.rs, runs the seed CNN in eager PyTorch (float32, the same
normalisation as reference/python/cnn.py) and prints the loss before and after
one and two Adam steps (lr 1e-3, PyTorch defaults) on that batch, and a few
weights after the two steps.
"""
import numpy as np
import torch
from torch import nn

SHAPES = [("conv1.weight", (32, 3, 3, 3), 27), ("conv1.bias", (32,), 27),
          ("conv2.weight", (64, 32, 3, 3), 288), ("conv2.bias", (64,), 288),
          ("fc1.weight", (512, 4096), 4096), ("fc1.bias", (512,), 4096),
          ("fc2.weight", (10, 512), 512), ("fc2.bias", (10,), 512)]
MEAN, STD = [0.4914, 0.4822, 0.4465], [0.2470, 0.2435, 0.2616]
N = 4
LABELS = [3, 1, 4, 1]


def weights():
    out = {}
    for k, (name, shape, fan_in) in enumerate(SHAPES):
        i = np.arange(int(np.prod(shape)), dtype=np.int64)
        u = ((i * 7919 + k * 104729) % 2001).astype(np.float64) / 1000.0 - 1.0
        out[name] = torch.from_numpy((u * (1.0 / np.sqrt(float(fan_in)))).astype(np.float32).reshape(shape))
    return out


def images():
    i = np.arange(N * 3 * 32 * 32, dtype=np.int64)
    return ((i * 31 + 7) % 256).astype(np.uint8).reshape(N, 3, 32, 32)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 8 * 8, 512)
        self.fc2 = nn.Linear(512, 10)

    def forward(self, x):
        x = nn.functional.max_pool2d(nn.functional.relu(self.conv1(x)), 2)
        x = nn.functional.max_pool2d(nn.functional.relu(self.conv2(x)), 2)
        return self.fc2(nn.functional.relu(self.fc1(torch.flatten(x, 1))))


torch.set_num_threads(1)
model = Net()
model.load_state_dict(weights())
x = torch.from_numpy(images()).float().div(255)
x = (x - torch.tensor(MEAN).view(1, 3, 1, 1)) / torch.tensor(STD).view(1, 3, 1, 1)
y = torch.tensor(LABELS)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
losses = []
for _ in range(2):
    opt.zero_grad()
    loss = nn.functional.cross_entropy(model(x), y)
    loss.backward()
    opt.step()
    losses.append(loss.item())
with torch.no_grad():
    losses.append(nn.functional.cross_entropy(model(x), y).item())
print("LOSSES", [float(f"{v:.9g}") for v in losses])
sd = model.state_dict()
for name, idx in [("conv1.weight", [0, 1, 2]), ("conv2.bias", [0, 1, 2]), ("fc1.weight", [0, 1, 2]),
                  ("fc2.weight", [0, 1, 2]), ("fc2.bias", [0, 1, 2])]:
    print(name, [float(f"{sd[name].flatten()[i].item():.9g}") for i in idx])
