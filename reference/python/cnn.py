"""CNN reference (python-pytorch): train the seed's CIFAR-10 CNN with Adam, in eager PyTorch.

    python cnn.py --spec SPEC.json

Every framework starts from the same init.safetensors and follows the same stored
batch order: epoch e visits the samples order[e] in consecutive batches of
batch_size (the last one smaller). Inputs, parameters, phases, metrics and
probes: docs/PROTOCOL.md (dl/cnn).
"""

import numpy as np
import torch
from safetensors.torch import load_file
from torch import nn

import common

EVAL_BATCH = 1000


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
        x = torch.flatten(x, 1)
        return self.fc2(nn.functional.relu(self.fc1(x)))


def images(path, mean, std, device):
    """uint8 [N,3,32,32] -> float32, scaled to [0,1], normalised per channel."""
    x = torch.from_numpy(np.load(path)).to(device).float().div_(255)
    return x.sub_(mean.view(1, 3, 1, 1)).div_(std.view(1, 3, 1, 1))


def load_init(path):
    """The initial weights, checked against Net's names and shapes (one-line error if not)."""
    state = load_file(path)
    try:
        Net().load_state_dict(state, strict=True)
    except RuntimeError as e:
        raise ValueError(f"{path}: " + " ".join(str(e).split())) from None
    return state


def train_epoch(model, optimizer, loss_fn, x, y, order, batch_size):
    """One pass over the samples `order`; returns the loss tensors of its steps."""
    model.train()
    losses = []
    for i in range(0, len(order), batch_size):
        idx = order[i : i + batch_size]
        optimizer.zero_grad()
        loss = loss_fn(model(x[idx]), y[idx])
        loss.backward()
        optimizer.step()
        losses.append(loss.detach())
    return losses


def first_steps(spec, order, batch_size):
    """order cut to its first `steps` batches per epoch when the spec has a steps parameter (the
    sweeps: a fixed number of Adam steps at each batch size), else order."""
    if "steps" not in spec["params"]:
        return order
    steps = common.param_int(spec, "steps")
    if not 1 <= steps * batch_size <= order.shape[1]:
        raise ValueError(f"steps {steps} of batch {batch_size}: want 1 to {order.shape[1]} samples per epoch")
    return order[:, : steps * batch_size]


@torch.no_grad()
def accuracy(model, x, y):
    model.eval()
    correct = sum((model(x[i : i + EVAL_BATCH]).argmax(1) == y[i : i + EVAL_BATCH]).sum().item() for i in range(0, len(y), EVAL_BATCH))
    return correct / len(y)


def run(spec):
    if spec["task"] != "dl/cnn":
        raise ValueError(f"unknown task {spec['task']!r}: want dl/cnn")
    p, inputs = spec["params"], spec["inputs"]
    epochs, batch_size = common.param_int(spec, "epochs"), common.param_int(spec, "batch_size")
    lr, seed = common.param_float(spec, "lr"), common.param_int(spec, "seed")
    result = common.Result(spec, "pytorch", torch.__version__)
    torch.set_num_threads(spec["threads"])
    torch.manual_seed(seed)
    device = torch.device(spec["device"])
    sync = torch.cuda.synchronize if device.type == "cuda" else None
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = False  # libtorch's default: rust-tch (tch 0.24) cannot set it

    with result.time("load", sync=sync):
        mean = torch.tensor(p["mean"], dtype=torch.float32, device=device)
        std = torch.tensor(p["std"], dtype=torch.float32, device=device)
        train_x, test_x = images(inputs["train_x"], mean, std, device), images(inputs["test_x"], mean, std, device)
        train_y = torch.from_numpy(np.load(inputs["train_y"])).to(device)
        test_y = torch.from_numpy(np.load(inputs["test_y"])).to(device)
        order = torch.from_numpy(common.rows(np.load(inputs["order"]), len(train_y), "order")).to(device)
        init = load_init(inputs["init"])
    if not 1 <= epochs <= order.shape[0]:
        raise ValueError(f"order has {order.shape[0]} epochs, params ask for {epochs}")
    order = first_steps(spec, order, batch_size)

    series = {"epoch_loss": [], "epoch_test_accuracy": []}
    images_trained = 0
    for _, timed in common.repetitions(spec):
        model = Net().to(device)
        model.load_state_dict(init, strict=True)  # every repetition trains from the same weights
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        loss_fn = nn.CrossEntropyLoss()
        for e in range(epochs):
            with result.time("train_epoch", timed, sync=sync):
                losses = train_epoch(model, optimizer, loss_fn, train_x, train_y, order[e], batch_size)
            with result.time("eval", timed, sync=sync):
                acc = accuracy(model, test_x, test_y)
            steps = torch.stack(losses).tolist()
            if e == 0:
                loss_steps = steps[:10]
            if timed:
                images_trained += len(order[e])
                series["epoch_loss"].append(sum(steps) / len(steps))
                series["epoch_test_accuracy"].append(acc)

    result.metric("test_accuracy", acc)
    result.metric("final_loss", sum(steps) / len(steps))
    result.metric("images_per_s", images_trained / sum(result["phases"]["train_epoch"]))
    result["series"] = series
    result.probe("loss_steps", loss_steps)
    adam = optimizer.defaults
    result["params"].update(
        epochs=epochs,
        batch_size=batch_size,
        lr=lr,
        seed=seed,
        optimizer="adam",
        betas=list(adam["betas"]),
        eps=adam["eps"],
        weight_decay=adam["weight_decay"],
        amsgrad=adam["amsgrad"],
        loss="cross_entropy_mean",
        eval_batch_size=EVAL_BATCH,
        samples_per_epoch=len(order[0]),
        cudnn_benchmark=False,
        cudnn_deterministic=False,
    )
    result["notes"] += [
        f"eager PyTorch, float32, NCHW; torch {torch.__version__}, torch.set_num_threads({spec['threads']}), torch.manual_seed({seed})",
        (
            "load: the whole train and test sets converted once to float32 x/255, then (x - mean) / std per "
            "channel, on the device; train_epoch: batch gather x[order[e][i:i+batch]], zero_grad, forward, "
            "CrossEntropyLoss (mean), backward, Adam step (PyTorch defaults but lr)"
        ),
        (
            "loss_steps[k-1] = the loss computed in the forward pass of batch k of epoch 0, before its "
            "optimizer step (k = 1..10), of the last repetition; epoch_loss = mean of the epoch's step losses"
        ),
        f"eval: after every epoch, the whole test set under torch.no_grad() in batches of {EVAL_BATCH}",
    ]
    if device.type == "cuda":
        result["params"].update(common.cuda_math(torch))
        result["notes"].append(
            f"CUDA {torch.version.cuda} on {torch.cuda.get_device_name()}; cudnn.benchmark "
            "off, cudnn.deterministic off, TF32 at libtorch's defaults (params); "
            "torch.cuda.synchronize() before every clock read"
        )
    return result


if __name__ == "__main__":
    common.main(run)
