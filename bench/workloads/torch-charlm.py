#!/usr/bin/python3
"""ai-training workload for the Assay held-out traces: a character-level Transformer language
model trained with PyTorch on CPU.

What it does
  Builds a text corpus in memory (sentences drawn from a fixed vocabulary of generated words with
  a Zipf-like frequency, ~4 MB of characters), and trains a small decoder-only Transformer
  (character embedding + learned positions, 2 causal self-attention layers, d_model 128, 4 heads,
  ~0.4 M parameters) to predict the next character: AdamW, batch 32 x 128 characters, gradient
  clipping, cosine learning-rate decay, 2 intra-op threads. Every --eval-every steps it reports
  the loss on a held-out slice; every --checkpoint-every steps it writes a checkpoint (model +
  optimizer + step) with torch.save, keeping the last 2. Plain `python3 torch-charlm.py`: no
  torchrun, no distributed environment. Stops itself after --seconds or on SIGTERM/SIGINT.

How it differs from the corpus training job (bench/workloads/train.py, a CNN on images): a
sequence model with attention, token data, AdamW, a step-count checkpoint cadence, no
launcher environment. Same framework (Debian python3-torch 1.13).

Sources
  - PyTorch nn.TransformerEncoderLayer / generate_square_subsequent_mask:
    https://pytorch.org/docs/1.13/generated/torch.nn.TransformerEncoderLayer.html
  - PyTorch, "Saving and loading a general checkpoint":
    https://pytorch.org/tutorials/recipes/recipes/saving_and_loading_a_general_checkpoint.html
  - Character-level language modelling as in Karpathy's char-rnn / nanoGPT (shape of the loop).

Usage: torch-charlm.py [--seconds 300] [--ckpt-dir DIR] [--checkpoint-every 100] [--eval-every 50]
"""
import argparse
import math
import os
import random
import shutil
import signal
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

ap = argparse.ArgumentParser()
ap.add_argument("--seconds", type=float, default=300)
ap.add_argument("--ckpt-dir", default="/tmp/charlm-ckpt")
ap.add_argument("--checkpoint-every", type=int, default=100)
ap.add_argument("--eval-every", type=int, default=50)
ap.add_argument("--threads", type=int, default=2)
a = ap.parse_args()

t0 = time.time()
stop = False


def on_term(*_):
    global stop
    stop = True


signal.signal(signal.SIGTERM, on_term)
signal.signal(signal.SIGINT, on_term)


def log(m):
    print(f"[charlm {time.time() - t0:6.1f}s] {m}", flush=True)


torch.set_num_threads(a.threads)
torch.manual_seed(0)
rnd = random.Random(0)
letters = "etaoinshrdlcumwfgypbvkjxqz"
vocab = ["".join(rnd.choice(letters) for _ in range(rnd.randint(2, 9))) for _ in range(3000)]
weights = [1.0 / (i + 1) for i in range(len(vocab))]
sentences = []
size = 0
while size < 4_000_000:
    s = " ".join(rnd.choices(vocab, weights, k=rnd.randint(5, 18))).capitalize() + ". "
    sentences.append(s)
    size += len(s)
text = "".join(sentences)
chars = sorted(set(text))
stoi = {c: i for i, c in enumerate(chars)}
data = torch.tensor([stoi[c] for c in text], dtype=torch.long)
split = int(len(data) * 0.95)
train, val = data[:split], data[split:]
V, T, B, D = len(chars), 128, 32, 128


class CharLM(nn.Module):
    def __init__(self):
        super().__init__()
        self.tok = nn.Embedding(V, D)
        self.pos = nn.Embedding(T, D)
        layer = nn.TransformerEncoderLayer(D, 4, 4 * D, dropout=0.1, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, 2)
        self.norm = nn.LayerNorm(D)
        self.head = nn.Linear(D, V)
        self.register_buffer("mask", torch.triu(torch.full((T, T), float("-inf")), diagonal=1))

    def forward(self, x):
        h = self.tok(x) + self.pos(torch.arange(x.shape[1]))
        h = self.blocks(h, mask=self.mask[: x.shape[1], : x.shape[1]])
        return self.head(self.norm(h))


def batch(src):
    ix = torch.randint(len(src) - T - 1, (B,))
    return torch.stack([src[i : i + T] for i in ix]), torch.stack([src[i + 1 : i + T + 1] for i in ix])


model = CharLM()
opt = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.01)
nparams = sum(p.numel() for p in model.parameters())
shutil.rmtree(a.ckpt_dir, ignore_errors=True)
os.makedirs(a.ckpt_dir)
log(f"model: {nparams} parameters, vocab {V}, {len(train)} training characters")
step = 0
while not stop and time.time() - t0 < a.seconds:
    step += 1
    lr = 3e-3 * 0.5 * (1 + math.cos(math.pi * min(step, 20000) / 20000))
    for g in opt.param_groups:
        g["lr"] = lr
    model.train()
    x, y = batch(train)
    loss = F.cross_entropy(model(x).reshape(-1, V), y.reshape(-1))
    opt.zero_grad(set_to_none=True)
    loss.backward()
    nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    if step % a.eval_every == 0:
        model.eval()
        with torch.no_grad():
            xv, yv = batch(val)
            vl = F.cross_entropy(model(xv).reshape(-1, V), yv.reshape(-1)).item()
        log(f"step {step}: train loss {loss.item():.3f} val loss {vl:.3f}")
    if step % a.checkpoint_every == 0:
        path = os.path.join(a.ckpt_dir, f"step{step:07d}.pt")
        torch.save({"step": step, "model": model.state_dict(), "optimizer": opt.state_dict()}, path)
        old = os.path.join(a.ckpt_dir, f"step{step - 2 * a.checkpoint_every:07d}.pt")
        if os.path.exists(old):
            os.remove(old)
        log(f"checkpoint {os.path.basename(path)}")
log("done")
shutil.rmtree(a.ckpt_dir, ignore_errors=True)
