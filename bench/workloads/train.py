#!/usr/bin/python3
"""ai-training workload for the Assay corpus: PyTorch CPU training of a small CNN.

What it does
  Trains a small convolutional network (2 conv + 2 linear layers, ~0.4 M parameters) on a
  synthetic CIFAR-10-shaped data set (3x32x32 images, 10 classes) held in memory, with SGD +
  momentum and cross-entropy loss, batch 128, 2 intra-op threads (torch.set_num_threads(2)).
  Every --checkpoint-every steps it writes a checkpoint (model + optimizer state) with
  torch.save to --ckpt-dir, as training jobs do, then keeps going. It stops on its own after
  --seconds (bounded) or on SIGTERM/SIGINT.

How it mirrors the real thing
  A real training job is a tight forward/backward/step loop that keeps every core it was given
  busy, with a steady per-step cadence, a data-loader feeding batches, and periodic checkpoint
  write bursts. The process maps libtorch (libtorch_cpu.so, libgomp / OpenMP) like any PyTorch
  job; the launcher's environment carries the torch.distributed variables that torchrun sets
  (RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT) — bench/record-corpus.sh sets them
  exactly as a single-node, single-process torchrun would. There is no GPU on the recording
  machine, so this is the CPU side of training only.

Sources
  - PyTorch, "torchrun (Elastic Launch)": environment variables set for each worker
    (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT):
    https://pytorch.org/docs/stable/elastic/run.html
  - PyTorch, "Saving and loading a general checkpoint":
    https://pytorch.org/tutorials/recipes/recipes/saving_and_loading_a_general_checkpoint.html
  - PyTorch CIFAR-10 tutorial network shape:
    https://pytorch.org/tutorials/beginner/blitz/cifar10_tutorial.html
Debian package: python3-torch (1.13). Run with /usr/bin/python3.
"""
import argparse
import os
import signal
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Net(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 32, 3, padding=1)
        self.conv2 = nn.Conv2d(32, 64, 3, padding=1)
        self.fc1 = nn.Linear(64 * 8 * 8, 96)
        self.fc2 = nn.Linear(96, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.max_pool2d(F.relu(self.conv1(x)), 2)
        x = F.max_pool2d(F.relu(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        return self.fc2(F.relu(self.fc1(x)))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--seconds', type=float, default=300, help='stop after this long (bounded)')
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--batch', type=int, default=128)
    ap.add_argument('--checkpoint-every', type=int, default=50, help='steps between torch.save checkpoints')
    ap.add_argument('--ckpt-dir', default='/tmp/assay-train-ckpt')
    args = ap.parse_args()

    stop = {'now': False}
    for s in (signal.SIGTERM, signal.SIGINT):
        signal.signal(s, lambda *_: stop.__setitem__('now', True))

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    os.makedirs(args.ckpt_dir, exist_ok=True)
    # Synthetic CIFAR-10-shaped data set: 50,000 images would be 600 MB; 8,192 keep it small.
    n = 8192
    data = torch.randn(n, 3, 32, 32)
    labels = torch.randint(0, 10, (n,))
    model = Net()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    rank = os.environ.get('RANK', '-')
    print(f'train: rank={rank} world={os.environ.get("WORLD_SIZE", "-")} threads={torch.get_num_threads()}', flush=True)

    t_end = time.monotonic() + args.seconds
    step = 0
    epoch = 0
    while not stop['now'] and time.monotonic() < t_end:
        perm = torch.randperm(n)
        for i in range(0, n - args.batch + 1, args.batch):
            if stop['now'] or time.monotonic() >= t_end:
                break
            idx = perm[i:i + args.batch]
            x, y = data[idx], labels[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(x), y)
            loss.backward()
            opt.step()
            step += 1
            if step % args.checkpoint_every == 0:
                path = os.path.join(args.ckpt_dir, f'ckpt-rank{rank}.pt')
                torch.save({'step': step, 'epoch': epoch, 'model': model.state_dict(), 'optimizer': opt.state_dict(), 'loss': loss.item()}, path + '.tmp')
                os.replace(path + '.tmp', path)
                print(f'train: step {step} loss {loss.item():.4f} checkpoint {path}', flush=True)
        epoch += 1
    print(f'train: done after {step} steps', flush=True)
    return 0


if __name__ == '__main__':
    sys.exit(main())
