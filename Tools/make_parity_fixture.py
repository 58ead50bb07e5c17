#!/usr/bin/env python3
"""Write the PyTorch reference that the Tensor module's GPT parity test compares against.

Builds a tiny 2-layer GPT in float32 with fixed weights, runs it on fixed ids and targets,
takes the mean cross-entropy loss and calls backward(). Saves one safetensors file holding
every parameter (PyTorch layout, Linear weight [out, in]), the ids and targets as float32,
the logits, the loss (shape [1]) and each parameter's gradient as `grad.<parameter name>`.
The model configuration goes into the metadata key `config` as a JSON object.

Needs: pip install torch safetensors numpy
Run:   python Tools/make_parity_fixture.py [--output PATH]

The same machine and library versions give the same bytes on every run.
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from safetensors.numpy import save_file

VOCAB_SIZE = 7
EMBED_DIM = 8
NUM_HEADS = 2
BLOCK_SIZE = 4
BATCH_SIZE = 2
NUM_LAYERS = 2
SEED = 1234

# Id 3 appears several times, so the embedding backward must add repeated rows.
INPUTS = [[0, 3, 6, 3], [5, 1, 3, 2]]
TARGETS = [[3, 6, 2, 1], [1, 3, 4, 0]]

DEFAULT_OUTPUT = (
    Path(__file__).resolve().parent.parent
    / "Tests" / "TensorTests" / "Fixtures" / "gpt_parity.safetensors"
)


class Block(torch.nn.Module):
    """One pre-LayerNorm transformer block: causal multi-head attention, then a GELU MLP."""

    def __init__(self):
        super().__init__()
        c = EMBED_DIM
        self.ln1 = torch.nn.LayerNorm(c)
        self.query = torch.nn.Linear(c, c)
        self.key = torch.nn.Linear(c, c)
        self.value = torch.nn.Linear(c, c)
        self.proj = torch.nn.Linear(c, c)
        self.ln2 = torch.nn.LayerNorm(c)
        self.fc1 = torch.nn.Linear(c, 4 * c)
        self.fc2 = torch.nn.Linear(4 * c, c)

    def attention(self, x):
        b, t, c = x.shape
        head_size = c // NUM_HEADS

        # [B, T, C] -> [B, numHeads, T, headSize]
        def heads(y):
            return y.view(b, t, NUM_HEADS, head_size).transpose(1, 2)

        q, k, v = heads(self.query(x)), heads(self.key(x)), heads(self.value(x))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(head_size)
        mask = torch.ones(t, t, dtype=torch.bool).tril()
        scores = scores.masked_fill(~mask, float("-inf"))
        attention = scores.softmax(dim=-1)
        out = (attention @ v).transpose(1, 2).reshape(b, t, c)
        return self.proj(out)

    def forward(self, x):
        x = x + self.attention(self.ln1(x))
        x = x + self.fc2(F.gelu(self.fc1(self.ln2(x)), approximate="none"))
        return x


class TinyGPT(torch.nn.Module):
    """Token and learned position embeddings, blocks, final LayerNorm, head tied to the token embedding."""

    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(VOCAB_SIZE, EMBED_DIM)
        self.wpe = torch.nn.Embedding(BLOCK_SIZE, EMBED_DIM)
        self.blocks = torch.nn.ModuleList([Block() for _ in range(NUM_LAYERS)])
        self.lnf = torch.nn.LayerNorm(EMBED_DIM)

    def forward(self, ids):
        t = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(t))
        for block in self.blocks:
            x = block(x)
        return self.lnf(x) @ self.wte.weight.T


def initialize(model):
    """Set every parameter to a non-trivial value, so each path changes the result."""
    with torch.no_grad():
        for name, parameter in model.named_parameters():
            is_layer_norm = ".ln" in name or name.startswith("lnf.")
            if is_layer_norm and name.endswith(".weight"):
                # Gains near 1 with noise.
                parameter.copy_(1 + 0.2 * torch.randn_like(parameter))
            elif name.endswith(".bias"):
                parameter.copy_(0.1 * torch.randn_like(parameter))
            else:
                parameter.copy_(0.3 * torch.randn_like(parameter))


def as_float32(tensor):
    return tensor.detach().to(torch.float32).contiguous().numpy()


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="safetensors file to write")
    arguments = parser.parse_args()

    torch.manual_seed(SEED)
    torch.set_num_threads(1)
    torch.use_deterministic_algorithms(True)

    model = TinyGPT()
    initialize(model)

    ids = torch.tensor(INPUTS, dtype=torch.long)
    targets = torch.tensor(TARGETS, dtype=torch.long)
    logits = model(ids)
    loss = F.cross_entropy(logits.reshape(-1, VOCAB_SIZE), targets.reshape(-1))
    loss.backward()

    arrays = {}
    for name, parameter in model.named_parameters():
        arrays[name] = as_float32(parameter)
        arrays["grad." + name] = as_float32(parameter.grad)
    arrays["ids"] = as_float32(ids)
    arrays["targets"] = as_float32(targets)
    arrays["logits"] = as_float32(logits)
    arrays["loss"] = as_float32(loss.reshape(1))

    config = {
        "vocabSize": VOCAB_SIZE,
        "embedDim": EMBED_DIM,
        "numHeads": NUM_HEADS,
        "blockSize": BLOCK_SIZE,
        "batchSize": BATCH_SIZE,
        "numLayers": NUM_LAYERS,
        "seed": SEED,
        "torch": torch.__version__,
    }
    # The writer stores metadata in a hash map whose key order changes from run to run. One key
    # containing sorted JSON keeps the file byte-for-byte the same on every run.
    metadata = {"config": json.dumps(config, sort_keys=True)}

    arguments.output.parent.mkdir(parents=True, exist_ok=True)
    save_file(arrays, str(arguments.output), metadata=metadata)

    largest_gradient = max(float(np.abs(arrays["grad." + n]).max()) for n, _ in model.named_parameters())
    print(f"wrote {arguments.output} ({arguments.output.stat().st_size} bytes, {len(arrays)} arrays)")
    print(f"loss {loss.item():.6f}, max |logit| {logits.abs().max().item():.4f}, max |grad| {largest_gradient:.4f}")


if __name__ == "__main__":
    main()
