"""PyTorch reference for the step 08 GPT and the step 09 training loop, for `make bench`.

The model and optimizer mirror the Swift code: token and learned position embeddings, pre-LayerNorm
blocks (causal multi-head attention with separate query, key and value layers, a 4x MLP with exact
GELU), a final LayerNorm, a head tied to the token table, no biases and no dropout; weights normal
with std 0.02, the residual output layers scaled by 1/sqrt(2 * layers). AdamW with betas (0.9, 0.99),
weight decay on 2-D tensors only, linear warmup then a cosine decay that reaches the minimum at the
last step, global-norm clipping. Batches are random windows of the first 90% of the text. The
vocabulary is an unknown-character token at id 0 followed by the sorted characters of the text, as
in the Swift tokenizer, so the two models have the same number of parameters.

Prints one line per evaluation and, last, one line starting with "RESULT " holding JSON with the
median milliseconds per step, tokens per second, losses and the peak resident set size.

Needs: pip install torch numpy
Example: python Tools/torch_gpt_reference.py --data data/tinyshakespeare.txt --steps 300 --threads 2
"""
import argparse
import json
import math
import resource
import statistics
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Attention(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.heads = heads
        self.query = nn.Linear(width, width, bias=False)
        self.key = nn.Linear(width, width, bias=False)
        self.value = nn.Linear(width, width, bias=False)
        self.projection = nn.Linear(width, width, bias=False)

    def forward(self, x):
        batch, time_steps, width = x.shape
        head_size = width // self.heads

        def split(t):
            return t.view(batch, time_steps, self.heads, head_size).transpose(1, 2)

        q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
        mixed = F.scaled_dot_product_attention(q, k, v, is_causal=True)
        return self.projection(mixed.transpose(1, 2).reshape(batch, time_steps, width))


class Block(nn.Module):
    def __init__(self, width, heads):
        super().__init__()
        self.norm1 = nn.LayerNorm(width, bias=False)
        self.attention = Attention(width, heads)
        self.norm2 = nn.LayerNorm(width, bias=False)
        self.hidden = nn.Linear(width, 4 * width, bias=False)
        self.output = nn.Linear(4 * width, width, bias=False)

    def forward(self, x):
        x = x + self.attention(self.norm1(x))
        return x + self.output(F.gelu(self.hidden(self.norm2(x))))


class GPT(nn.Module):
    def __init__(self, vocab_size, block_size, width, heads, layers):
        super().__init__()
        self.tokens = nn.Embedding(vocab_size, width)
        self.positions = nn.Embedding(block_size, width)
        self.blocks = nn.ModuleList([Block(width, heads) for _ in range(layers)])
        self.final_norm = nn.LayerNorm(width, bias=False)
        for name, parameter in self.named_parameters():
            if parameter.dim() == 2:
                std = 0.02
                if name.endswith("attention.projection.weight") or name.endswith("output.weight"):
                    std /= math.sqrt(2 * layers)
                nn.init.normal_(parameter, 0.0, std)

    def forward(self, ids, targets):
        x = self.tokens(ids) + self.positions(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x)
        logits = self.final_norm(x) @ self.tokens.weight.t()
        return F.cross_entropy(logits.view(-1, logits.shape[-1]), targets.view(-1))


def learning_rate(step, args):
    if step < args.warmup:
        return args.lr * (step + 1) / (args.warmup + 1)
    last_step = args.steps - 1
    if last_step <= args.warmup:
        return args.lr
    progress = min((step - args.warmup) / (last_step - args.warmup), 1.0)
    return args.min_lr + 0.5 * (1 + math.cos(math.pi * progress)) * (args.lr - args.min_lr)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", required=True, help="the training text (UTF-8)")
    parser.add_argument("--steps", type=int, default=300, help="optimizer steps (default 300)")
    parser.add_argument("--threads", type=int, default=2, help="CPU threads torch uses (default 2)")
    parser.add_argument("--layers", type=int, default=4, help="transformer blocks (default 4)")
    parser.add_argument("--heads", type=int, default=4, help="attention heads per block (default 4)")
    parser.add_argument("--embed-dim", type=int, default=128, help="model width (default 128)")
    parser.add_argument("--block-size", type=int, default=64, help="context length in tokens (default 64)")
    parser.add_argument("--batch-size", type=int, default=12, help="sequences per step (default 12)")
    parser.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (default 1e-3)")
    parser.add_argument("--min-lr", type=float, default=1e-4, help="learning rate at the last step (default 1e-4)")
    parser.add_argument("--warmup", type=int, default=100, help="steps of linear warmup (default 100)")
    parser.add_argument("--weight-decay", type=float, default=0.1, help="AdamW decay of 2-D weights (default 0.1)")
    parser.add_argument("--clip", type=float, default=1.0, help="maximum global gradient norm (default 1.0)")
    parser.add_argument("--eval-interval", type=int, default=0, help="0: evaluate only at the end")
    parser.add_argument("--eval-batches", type=int, default=20, help="batches per split in each evaluation (default 20)")
    parser.add_argument("--skip", type=int, default=20, help="first steps left out of the median")
    parser.add_argument("--seed", type=int, default=1337, help="torch random seed (default 1337)")
    args = parser.parse_args()

    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    text = open(args.data, encoding="utf-8").read()
    characters = sorted(set(text))
    # Id 0 is the unknown-character token, which the text never uses but the vocabulary counts.
    index = {c: i + 1 for i, c in enumerate(characters)}
    data = torch.tensor([index[c] for c in text], dtype=torch.long)
    cut = int(0.9 * len(data))
    splits = {"train": data[:cut], "val": data[cut:]}

    model = GPT(len(characters) + 1, args.block_size, args.embed_dim, args.heads, args.layers)
    decayed = [p for p in model.parameters() if p.dim() == 2]
    kept = [p for p in model.parameters() if p.dim() != 2]
    optimizer = torch.optim.AdamW(
        [{"params": decayed, "weight_decay": args.weight_decay}, {"params": kept, "weight_decay": 0.0}],
        lr=args.lr, betas=(0.9, 0.99), eps=1e-8)

    def batch(split):
        source = splits[split]
        starts = torch.randint(len(source) - args.block_size, (args.batch_size,))
        x = torch.stack([source[s:s + args.block_size] for s in starts])
        y = torch.stack([source[s + 1:s + 1 + args.block_size] for s in starts])
        return x, y

    @torch.no_grad()
    def evaluate():
        model.eval()
        result = {}
        for split in ("train", "val"):
            result[split] = sum(model(*batch(split)).item() for _ in range(args.eval_batches)) / args.eval_batches
        model.train()
        return result

    step_times = []
    losses = {}
    started = time.perf_counter()
    for step in range(args.steps):
        if args.eval_interval and step % args.eval_interval == 0:
            losses = evaluate()
            print(f"step {step}: train {losses['train']:.4f} val {losses['val']:.4f}", flush=True)
        step_start = time.perf_counter()
        for group in optimizer.param_groups:
            group["lr"] = learning_rate(step, args)
        x, y = batch("train")
        loss = model(x, y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), args.clip)
        optimizer.step()
        step_times.append(time.perf_counter() - step_start)
    losses = evaluate()
    wall = time.perf_counter() - started
    print(f"step {args.steps}: train {losses['train']:.4f} val {losses['val']:.4f}", flush=True)

    timed = step_times[args.skip:] if len(step_times) > args.skip else step_times
    median = statistics.median(timed)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "darwin":
        peak_kib //= 1024
    print("RESULT " + json.dumps({
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "steps": args.steps,
        "median_ms_per_step": median * 1000,
        "tokens_per_second": args.batch_size * args.block_size / median,
        "train_loss": losses["train"],
        "val_loss": losses["val"],
        "wall_seconds": wall,
        "peak_rss_mib": peak_kib / 1024,
        "parameters": sum(p.numel() for p in model.parameters()),
    }), flush=True)


if __name__ == "__main__":
    main()
