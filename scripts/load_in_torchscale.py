#!/usr/bin/env python3
"""Load a DeepNet model file (or checkpoint) into torchscale and compare its logits with the Swift engine's.

    python3 scripts/load_in_torchscale.py MODEL.h5 [--deepnet .build/release/deepnet] [--batch-size 4] [--tol 1e-5]

Builds torchscale's EncoderDecoder from the file's attributes (the settings `Checkpoint.swift` writes: layers, widths,
heads, vocab_size, positions, share_all_embeddings, activation, method -> deepnorm / normalize_before), loads every
float dataset at the file's root as the state_dict with strict=True (so every key must match, none may be left
over), makes a random right-padded batch of the model's vocabulary, and runs it through

  * `deepnet forward-backward --checkpoint MODEL.h5 --batch batch.h5 -o out.h5` (eval mode: no dropout), and
  * torchscale in float32 and in float64 (on the same float32 weights, torchscale's two internal float32 casts
    patched out as in make_golden_fixtures.py),

and prints the max absolute logit difference at the non-pad target positions (the positions that carry loss). Exit
status 1 when the float32 difference exceeds --tol.

Python is optional for this project: without torch, torchscale or h5py the script says so and exits 0.
Supported methods: post-ln, pre-ln, deepnorm, deepnorm-torchscale (the ones torchscale implements), encoder-decoder.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile

def _stub_timm_if_broken():
    """torchscale imports `timm.models.layers.drop_path` (DropPath; unused here: drop_path_rate is 0). A timm whose
    torchvision does not match the installed torch fails to import ("operator torchvision::nms does not exist");
    then a stand-in module with timm's drop_path is registered so that torchscale imports."""
    try:
        import timm.models.layers  # noqa: F401
        return None
    except ImportError:
        raise
    except Exception as e:  # a broken timm/torchvision pair
        import types

        def drop_path(x, drop_prob=0.0, training=False, scale_by_keep=True):
            if drop_prob == 0.0 or not training:
                return x
            keep = 1 - drop_prob
            mask = x.new_empty((x.shape[0],) + (1,) * (x.ndim - 1)).bernoulli_(keep)
            return x * mask / keep if scale_by_keep else x * mask

        for name in ("timm", "timm.models", "timm.models.layers"):
            sys.modules.pop(name, None)
            sys.modules[name] = types.ModuleType(name)
        sys.modules["timm.models.layers"].drop_path = drop_path
        return f"timm does not import ({type(e).__name__}: {e}); torchscale uses a stand-in drop_path (drop_path_rate is 0)"


try:
    import h5py
    import numpy as np
    import torch
    TIMM_NOTE = _stub_timm_if_broken()
    import torchscale  # noqa: F401
    from torchscale.architecture.config import EncoderDecoderConfig
    from torchscale.architecture.encoder_decoder import EncoderDecoder
    from torchscale.component.embedding import PositionalEmbedding, TextEmbedding
except ImportError as e:  # pragma: no cover
    print(f"load_in_torchscale.py: skipped, {e.name or e} is not installed (pip install torch torchscale==0.3.0 h5py)")
    sys.exit(0)

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from make_golden_fixtures import FairseqSinusoidalPositions, float64_reference_pass, make_batch  # noqa: E402

PAD = 1
SUPPORTED = {"post-ln", "pre-ln", "deepnorm", "deepnorm-torchscale"}


def attr(f, name, default=None):
    v = f.attrs.get(name, default)
    if isinstance(v, bytes):
        v = v.decode()
    if isinstance(v, np.generic):
        v = v.item()
    return v


def build(f):
    arch = attr(f, "architecture", "encoder-decoder")
    method = attr(f, "method", "post-ln")
    if arch != "encoder-decoder":
        sys.exit(f"unsupported architecture '{arch}' (this script builds torchscale's EncoderDecoder)")
    if method not in SUPPORTED:
        sys.exit(f"method '{method}' has no torchscale equivalent (supported: {', '.join(sorted(SUPPORTED))})")
    if float(attr(f, "alpha_multiplier", 1.0)) != 1.0:
        sys.exit("alpha_multiplier != 1 has no torchscale equivalent")
    d, V = int(attr(f, "embed_dim")), int(attr(f, "vocab_size"))
    share_all = bool(attr(f, "share_all_embeddings", 0))
    common = dict(
        encoder_embed_dim=d, encoder_attention_heads=int(attr(f, "heads")), encoder_ffn_embed_dim=int(attr(f, "ffn_dim")),
        encoder_layers=int(attr(f, "encoder_layers")), decoder_embed_dim=d, decoder_attention_heads=int(attr(f, "heads")),
        decoder_ffn_embed_dim=int(attr(f, "ffn_dim")), decoder_layers=int(attr(f, "decoder_layers")),
        activation_fn=attr(f, "activation", "relu"), dropout=0.0, attention_dropout=0.0, activation_dropout=0.0,
        drop_path_rate=0.0, no_scale_embedding=not bool(attr(f, "scale_embedding", 1)), layernorm_embedding=False,
        share_all_embeddings=share_all, share_decoder_input_output_embed=bool(attr(f, "share_decoder_input_output_embed", 0)),
        vocab_size=V, max_source_positions=int(attr(f, "max_positions")), max_target_positions=int(attr(f, "max_positions")),
        layernorm_eps=1e-5,
    )
    if method == "post-ln":
        cfg = EncoderDecoderConfig(deepnorm=False, subln=False, encoder_normalize_before=False, decoder_normalize_before=False, **common)
    elif method == "pre-ln":
        cfg = EncoderDecoderConfig(deepnorm=False, subln=False, encoder_normalize_before=True, decoder_normalize_before=True, **common)
    else:
        cfg = EncoderDecoderConfig(deepnorm=True, **common)
    embed = TextEmbedding(V, d, padding_idx=PAD)
    dec_embed = None if share_all else TextEmbedding(V, d, padding_idx=PAD)
    rows = int(attr(f, "max_positions")) + PAD + 1
    positions = attr(f, "positions", "sinusoidal")
    if positions == "learned":
        pos_e, pos_d = PositionalEmbedding(rows, d, padding_idx=PAD), PositionalEmbedding(rows, d, padding_idx=PAD)
    elif positions == "sinusoidal":
        pos_e, pos_d = FairseqSinusoidalPositions(rows, d, PAD), FairseqSinusoidalPositions(rows, d, PAD)
    else:
        pos_e = pos_d = None
    model = EncoderDecoder(cfg, encoder_embed_tokens=embed, encoder_embed_positions=pos_e,
                           decoder_embed_tokens=dec_embed, decoder_embed_positions=pos_d)
    return model, V, method


def state_dict(f):
    """Every float dataset at the root (tied keys are hard links in DeepNet files: h5py sees each key)."""
    return {k: torch.from_numpy(np.array(v, dtype=np.float32)) for k, v in f.items()
            if isinstance(v, h5py.Dataset) and v.dtype.kind == "f"}


def logits_of(model, src, prev):
    with torch.no_grad():
        src_t, prev_t = torch.from_numpy(src), torch.from_numpy(prev)
        enc = model.encoder(src_t, encoder_padding_mask=src_t.eq(PAD))
        out, _ = model.decoder(prev_t, encoder_out=enc)
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("model")
    ap.add_argument("--deepnet", default=os.path.join(HERE, "..", ".build", "release", "deepnet"))
    ap.add_argument("--batch-size", type=int, default=4)
    ap.add_argument("--source-length", type=int, default=12)
    ap.add_argument("--target-length", type=int, default=10)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--tol", type=float, default=1e-5)
    a = ap.parse_args()
    torch.set_num_threads(1)

    with h5py.File(a.model, "r") as f:
        model, V, method = build(f)
        sd = state_dict(f)
        run_id = attr(f, "run_id", "-")
    missing, unexpected = model.load_state_dict(sd, strict=True)  # raises on any mismatch
    model.eval()
    n_params = sum(p.numel() for p in model.parameters())

    rng = np.random.default_rng(a.seed)
    src, prev, tgt = make_batch(rng, a.batch_size, a.source_length, a.target_length, V)
    with tempfile.TemporaryDirectory() as tmp:
        batch, out = os.path.join(tmp, "batch.h5"), os.path.join(tmp, "out.h5")
        with h5py.File(batch, "w") as b:
            b["src_tokens"], b["prev_output_tokens"], b["target"] = src, prev, tgt
        r = subprocess.run([a.deepnet, "forward-backward", "--checkpoint", a.model, "--batch", batch, "-o", out],
                           capture_output=True, text=True)
        if r.returncode != 0:
            sys.exit(f"deepnet forward-backward failed ({r.returncode}): {r.stderr.strip()}")
        with h5py.File(out, "r") as o:
            ours = torch.from_numpy(np.array(o["logits"], dtype=np.float32)).view(a.batch_size, a.target_length, V)

    if TIMM_NOTE:
        print("note: " + TIMM_NOTE)
    t32 = logits_of(model, src, prev)
    with float64_reference_pass():
        t64 = logits_of(model.double(), src, prev)
    mask = torch.from_numpy(tgt).ne(PAD)
    d32 = (ours.double() - t32.double()).abs()[mask].max().item()
    d64 = (ours.double() - t64).abs()[mask].max().item()
    t32v64 = (t32.double() - t64).abs()[mask].max().item()
    scale = t64.abs()[mask].max().item()
    print(f"model {os.path.basename(a.model)} (run {run_id[:12]}): torchscale EncoderDecoder, method {method}, "
          f"{n_params} parameters, load_state_dict(strict=True): {len(sd)} keys, {len(missing)} missing, {len(unexpected)} unexpected")
    print(f"batch {a.batch_size}x{a.source_length} -> {a.batch_size}x{a.target_length}, vocabulary {V}, "
          f"{int(mask.sum())} non-pad target positions, max |logit| {scale:.3f}")
    print(f"max abs logit difference, deepnet vs torchscale float32: {d32:.3e}")
    print(f"max abs logit difference, deepnet vs torchscale float64: {d64:.3e}  (torchscale float32 vs float64: {t32v64:.3e})")
    if d32 > a.tol:
        print(f"FAIL: {d32:.3e} > tolerance {a.tol:g}")
        sys.exit(1)
    print(f"OK (tolerance {a.tol:g})")


if __name__ == "__main__":
    main()
