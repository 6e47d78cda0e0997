#!/usr/bin/env python3
"""Side-by-side training-step throughput: deepnet-bench (Swift engine) against PyTorch + torchscale.

Run it through `make bench-vs-torch` (scripts/bench_vs_torch.sh builds deepnet-bench first), or directly:

    python3 scripts/bench_vs_torch.py --deepnet-bench .build/release/deepnet-bench \\
        [--rounds 2] [--steps 5] [--filter SUBSTRING] [--threads 2]

The configs (names, sizes, batch) come from `deepnet-bench --list`, so both sides always run the same list.
For each round, for each config: one `deepnet-bench --only NAME --steps N` child, then one PyTorch child
(this script with --torch-child), each a fresh process so its peak RSS is its own. Each side keeps the best
tok/s over the rounds. tok/s = (B*S + B*T) / best step time; a step is forward + backward + optimizer step,
timed after one untimed warm-up step, best of --steps timed steps (the same protocol as deepnet-bench).

PyTorch side (same model as scripts/make_golden_fixtures.py builds, at the bench sizes): torchscale
EncoderDecoder with deepnorm=True, ReLU, dropout 0, share_all_embeddings (one TextEmbedding for encoder input,
decoder input and the tied output projection), fairseq sinusoidal positions (the engine's default), embeddings
scaled by sqrt(d), fairseq label-smoothed cross-entropy (eps 0.1) over non-pad targets divided by the number of
target tokens, torch.optim.Adam(lr 5e-4, betas (0.9, 0.98)), torch.set_num_threads(--threads), float32.
The batch has no padding (token ids uniform in [4, V)), like deepnet-bench's.

Columns: "% sgemm peak" is deepnet's step GFLOP/s over the cblas_sgemm peak deepnet-bench measures in its own
child process (OpenBLAS threaded over the engine's thread count). The details block under the table also gives
PyTorch's step GFLOP/s over a torch.mm 1024^3 peak measured in its own child (same matmul FLOP count for both).
Peak RSS is getrusage(RUSAGE_SELF).ru_maxrss of each child; the PyTorch figure includes the ~hundreds of MiB
that importing torch maps by itself (shown as "import RSS" in the details).

Needs torch and torchscale only where it runs; never part of the build, the tests or CI.
"""
import argparse
import math
import os
import platform
import resource
import subprocess
import sys
import time

PAD, EOS = 1, 2


# ---------------------------------------------------------------------------------------------- PyTorch child

def import_torchscale():
    """Import torchscale's EncoderDecoder. torchscale 0.3.0 imports timm only for `drop_path` (DropPath, unused
    at drop_path_rate 0), and timm imports torchvision; a torchvision wheel built for another torch (e.g. the
    CUDA build from PyPI next to a +cpu torch) fails to load. In that case a stand-in `timm.models.layers`
    providing timm's drop_path is installed and the shim is reported. Returns (EncoderDecoder, config class,
    TextEmbedding, shim-used flag)."""
    shim = False
    try:
        import timm.models.layers  # noqa: F401
    except Exception:
        import types

        import torch

        def drop_path(x, drop_prob: float = 0.0, training: bool = False):  # timm 0.6.13's implementation
            if drop_prob == 0.0 or not training:
                return x
            keep = 1 - drop_prob
            mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
            return x * mask / keep

        for name in [m for m in sys.modules if m == "timm" or m.startswith("timm.")]:
            del sys.modules[name]
        timm = types.ModuleType("timm"); models = types.ModuleType("timm.models")
        layers = types.ModuleType("timm.models.layers")
        layers.drop_path = drop_path
        timm.models = models; models.layers = layers
        sys.modules.update({"timm": timm, "timm.models": models, "timm.models.layers": layers})
        shim = True
    from torchscale.architecture.config import EncoderDecoderConfig
    from torchscale.architecture.encoder_decoder import EncoderDecoder
    from torchscale.component.embedding import TextEmbedding
    return EncoderDecoder, EncoderDecoderConfig, TextEmbedding, shim


def torch_child(a):
    rss_start = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    import torch
    import torch.nn.functional as F

    torch.set_num_threads(a.threads)
    EncoderDecoder, EncoderDecoderConfig, TextEmbedding, shim = import_torchscale()
    rss_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024

    # torch.mm peak in this process (cheap: a few 1024^3 products), before the model exists.
    n = 1024
    x = torch.full((n, n), 0.5); y = torch.full((n, n), 0.25)
    torch.mm(x, y)
    best_mm = math.inf
    for _ in range(5):
        t0 = time.perf_counter(); torch.mm(x, y); best_mm = min(best_mm, time.perf_counter() - t0)
    mm_peak = 2 * n ** 3 / best_mm / 1e9
    del x, y

    d, ffn, heads, enc, dec, V = a.d, a.ffn, a.heads, a.enc, a.dec, a.vocab
    B, S, T = a.batch, a.src_len, a.tgt_len
    max_positions = 1024                          # engine default (ModelConfig.maxPositions)
    torch.manual_seed(1)
    cfg = EncoderDecoderConfig(
        deepnorm=True,
        encoder_embed_dim=d, encoder_attention_heads=heads, encoder_ffn_embed_dim=ffn, encoder_layers=enc,
        decoder_embed_dim=d, decoder_attention_heads=heads, decoder_ffn_embed_dim=ffn, decoder_layers=dec,
        activation_fn="relu", dropout=0.0, attention_dropout=0.0, activation_dropout=0.0, drop_path_rate=0.0,
        no_scale_embedding=False, layernorm_embedding=False, share_all_embeddings=True, vocab_size=V,
        max_source_positions=max_positions, max_target_positions=max_positions, layernorm_eps=1e-5,
    )
    embed = TextEmbedding(V, d, padding_idx=PAD)
    rows = max_positions + PAD + 1
    model = EncoderDecoder(cfg, encoder_embed_tokens=embed,
                           encoder_embed_positions=SinusoidalPositions(rows, d, PAD, torch),
                           decoder_embed_tokens=None,
                           decoder_embed_positions=SinusoidalPositions(rows, d, PAD, torch))
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=5e-4, betas=(0.9, 0.98), eps=1e-8)

    g = torch.Generator().manual_seed(42)
    src = torch.randint(4, V, (B, S), generator=g)
    tgt = torch.randint(4, V, (B, T), generator=g)
    prev = torch.cat([torch.full((B, 1), EOS, dtype=tgt.dtype), tgt[:, :-1]], dim=1)
    eps = a.label_smoothing

    def step():
        opt.zero_grad(set_to_none=True)
        out = model.encoder(src, encoder_padding_mask=src.eq(PAD))
        logits, _ = model.decoder(prev, encoder_out=out)
        lprobs = F.log_softmax(logits, dim=-1).view(-1, V)
        t = tgt.view(-1)
        nll = -lprobs.gather(1, t.unsqueeze(1)).squeeze(1)
        smooth = -lprobs.sum(dim=-1)
        mask = t.eq(PAD)
        nll = nll.masked_fill(mask, 0.0); smooth = smooth.masked_fill(mask, 0.0)
        eps_i = eps / (V - 1)
        ntokens = (~mask).sum()
        loss = ((1.0 - eps - eps_i) * nll + eps_i * smooth).sum() / ntokens
        loss.backward()
        opt.step()
        return loss.item()                        # .item() synchronises; CPU anyway

    step()                                        # warm-up (allocations, Adam state)
    best, loss = math.inf, float("nan")
    for _ in range(a.steps):
        t0 = time.perf_counter()
        loss = step()
        best = min(best, time.perf_counter() - t0)
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    tokens = B * S + B * T
    print(f"RESULT\t{tokens / best}\t{best * 1000}\t{rss}\t{loss}\t{mm_peak}\t{rss_import}\t{int(shim)}\t{rss_start}")


def SinusoidalPositions(num_embeddings, dim, padding_idx, torch):
    """fairseq SinusoidalPositionalEmbedding, exactly as FairseqSinusoidalPositions in make_golden_fixtures.py
    (not imported from there: that module needs h5py and numpy at import)."""
    class FairseqSinusoidalPositions(torch.nn.Module):
        def __init__(self):
            super().__init__()
            half = dim // 2
            step = math.log(10000) / (half - 1)
            freqs = torch.exp(torch.arange(half, dtype=torch.float) * -step)
            ang = torch.arange(num_embeddings, dtype=torch.float).unsqueeze(1) * freqs.unsqueeze(0)
            table = torch.cat([torch.sin(ang), torch.cos(ang)], dim=1).view(num_embeddings, -1)
            if dim % 2 == 1:
                table = torch.cat([table, torch.zeros(num_embeddings, 1)], dim=1)
            table[padding_idx, :] = 0
            self.register_buffer("table", table, persistent=False)
            self.padding_idx = padding_idx

        def forward(self, tokens, positions=None, **kwargs):
            mask = tokens.ne(self.padding_idx).long()
            pos = torch.cumsum(mask, dim=1) * mask + self.padding_idx
            return self.table.index_select(0, pos.view(-1)).view(tokens.size(0), tokens.size(1), -1)
    return FairseqSinusoidalPositions()


# ---------------------------------------------------------------------------------------------- driver

def run(cmd, env=None):
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    line = next((l for l in p.stdout.splitlines() if l.startswith("RESULT\t")), None)
    if line is None:
        tail = (p.stderr.strip().splitlines() or p.stdout.strip().splitlines() or ["(no output)"])[-1]
        return None, f"status {p.returncode}: {tail}"
    return [float(v) for v in line.split("\t")[1:]], None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for l in f:
                if l.startswith("model name"):
                    return l.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def pkg_version(name):
    try:
        from importlib.metadata import version
        return version(name)
    except Exception:
        return "unknown"


def fmt(v, spec):
    return "—" if v is None else format(v, spec)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--deepnet-bench", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                             ".build", "release", "deepnet-bench"))
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--filter", default="", help="only configs whose name contains this substring")
    ap.add_argument("--threads", type=int, default=2, help="DEEPNET_THREADS for deepnet, torch.set_num_threads")
    # child mode
    ap.add_argument("--torch-child", action="store_true", help=argparse.SUPPRESS)
    for k in ("d", "ffn", "heads", "enc", "dec", "vocab", "batch", "src-len", "tgt-len"):
        ap.add_argument("--" + k, type=int, help=argparse.SUPPRESS)
    ap.add_argument("--label-smoothing", type=float, default=0.1, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.torch_child:
        torch_child(a)
        return

    try:
        import torch
        import torchscale  # noqa: F401
    except Exception:
        print("bench-vs-torch: PyTorch/torchscale not installed (pip install torch torchscale); skipped")
        return
    bench = os.path.abspath(a.deepnet_bench)
    if not os.access(bench, os.X_OK):
        sys.exit(f"bench-vs-torch: {bench} not found; build it with `swift build -c release --product deepnet-bench`")

    env = dict(os.environ, DEEPNET_THREADS=str(a.threads))
    listing = subprocess.run([bench, "--list"], stdout=subprocess.PIPE, text=True, check=True, env=env).stdout
    configs = []
    for l in listing.splitlines():
        f = l.split("\t")
        if len(f) == 10 and a.filter in f[0]:
            configs.append(dict(name=f[0], **dict(zip(("d", "ffn", "heads", "enc", "dec", "vocab", "batch",
                                                        "src_len", "tgt_len"), map(int, f[1:])))))
    if not configs:
        sys.exit(f"bench-vs-torch: no config matches filter {a.filter!r}")
    info = subprocess.run([bench, "--info"], stdout=subprocess.PIPE, text=True, env=env).stdout.strip()

    print("## deepnet vs PyTorch + torchscale (training step: forward + backward + Adam)")
    print()
    print(f"- machine: {cpu_model()}, nproc {os.cpu_count()}, {platform.system()} {platform.release()}")
    print(f"- python {platform.python_version()}, torch {torch.__version__}, torchscale {pkg_version('torchscale')}, "
          f"torch threads {a.threads} (interop {torch.get_num_interop_threads()})")
    for l in info.splitlines():
        print(f"- deepnet: {l}")
    c0 = configs[0]
    print(f"- batch {c0['batch']} sentences x {c0['src_len']} source + {c0['tgt_len']} target tokens; "
          f"{a.rounds} round(s), alternating deepnet then PyTorch per config; per run 1 warm-up + {a.steps} timed "
          f"steps, best step; best of the rounds per side")
    print()
    sys.stdout.flush()

    best = {c["name"]: {"deepnet": None, "torch": None} for c in configs}
    errors = []
    shim_used = False
    me = os.path.abspath(__file__)
    for r in range(1, a.rounds + 1):
        for c in configs:
            dn, err = run([bench, "--only", c["name"], "--steps", str(a.steps)], env=env)
            if err:
                errors.append(f"round {r} {c['name']} deepnet: {err}")
            tcmd = [sys.executable, me, "--torch-child", "--steps", str(a.steps), "--threads", str(a.threads)]
            for k in ("d", "ffn", "heads", "enc", "dec", "vocab", "batch", "src_len", "tgt_len"):
                tcmd += ["--" + k.replace("_", "-"), str(c[k])]
            # OMP/MKL thread env left as set by the user; torch.set_num_threads pins the intra-op pool.
            tr, err = run(tcmd)
            if err:
                errors.append(f"round {r} {c['name']} torch: {err}")
            if tr and tr[6]:
                shim_used = True
            print(f"round {r} {c['name']:<20s} deepnet {fmt(dn and dn[0], '9.0f')} tok/s   "
                  f"PyTorch {fmt(tr and tr[0], '9.0f')} tok/s", file=sys.stderr, flush=True)
            b = best[c["name"]]
            if dn and (b["deepnet"] is None or dn[0] > b["deepnet"][0]):
                b["deepnet"] = dn
            if tr and (b["torch"] is None or tr[0] > b["torch"][0]):
                b["torch"] = tr

    print("| config | deepnet tok/s | PyTorch tok/s | ratio | deepnet % sgemm peak | deepnet peak RSS MiB "
          "| PyTorch peak RSS MiB |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for c in configs:
        dn, tr = best[c["name"]]["deepnet"], best[c["name"]]["torch"]
        ratio = f"{dn[0] / tr[0]:.2f}x" if dn and tr else "—"
        # deepnet RESULT: tok/s, GFLOP/s, step ms, peak RSS MiB, loss, child sgemm peak, cpu GFLOP/s, cpu peak
        pct = f"{100 * dn[1] / dn[5]:.1f}%" if dn and dn[5] > 0 else "—"
        print(f"| {c['name']} | {fmt(dn and dn[0], '.0f')} | {fmt(tr and tr[0], '.0f')} | {ratio} | {pct} "
              f"| {fmt(dn and dn[3], '.0f')} | {fmt(tr and tr[2], '.0f')} |")
    print()
    print("ratio = deepnet tok/s / PyTorch tok/s (> 1: deepnet faster). Details of the best runs:")
    print()
    print("```")
    print(f"{'config':<20s} {'deepnet ms':>10s} {'GFLOP/s':>8s} {'sgemm GF/s':>10s} {'loss':>7s}   "
          f"{'torch ms':>9s} {'GFLOP/s':>8s} {'mm GF/s':>8s} {'%mm':>6s} {'loss':>7s} {'import RSS':>10s}")
    for c in configs:
        dn, tr = best[c["name"]]["deepnet"], best[c["name"]]["torch"]
        flop = dn[1] * dn[2] / 1000 if dn else None          # GFLOP per step, same matmuls for both
        tg = flop / (tr[1] / 1000) if dn and tr else None
        print(f"{c['name']:<20s} {fmt(dn and dn[2], '10.1f')} {fmt(dn and dn[1], '8.1f')} "
              f"{fmt(dn and dn[5], '10.1f')} {fmt(dn and dn[4], '7.3f')}   "
              f"{fmt(tr and tr[1], '9.1f')} {fmt(tg, '8.1f')} {fmt(tr and tr[4], '8.1f')} "
              f"{fmt(tg and 100 * tg / tr[4], '5.1f')}% {fmt(tr and tr[3], '7.3f')} {fmt(tr and tr[5], '10.0f')}")
    print("```")
    if shim_used:
        print()
        print("note: timm/torchvision did not import (torchvision built for another torch); torchscale's DropPath "
              "import was served by a stand-in drop_path (unused: drop_path_rate 0).")
    if errors:
        print()
        print("failed runs:")
        for e in errors:
            print(f"- {e}")
        sys.exit(1)


if __name__ == "__main__":
    main()
