#!/usr/bin/env python3
"""Generate the torchscale golden fixtures used by Tests/EngineTests/GoldenTorchscaleTests.swift.

Python is used ONLY here, to (re)generate committed fixtures; building and testing the Swift package never
needs it.  Requirements: torch, torchscale (0.3.0), fairscale, h5py, numpy.

    python3 scripts/make_golden_fixtures.py            # writes Tests/EngineTests/Fixtures/golden_*.h5

For each variant one file golden_<variant>.h5 is written: post-ln, pre-ln, deepnorm (6L-6L, learned positions,
shared embeddings, relu) and post-ln-sinusoidal (2L-2L, fairseq sinusoidal positions, separate decoder input
embedding and output projection, gelu). Each is laid out as a DeepNet checkpoint (see
Sources/DeepNetEngine/Checkpoint.swift) plus the batch and the reference results:

    /<state_dict key>                 float32   every key of model.state_dict() (tied keys stored as copies,
                                                exactly as `h5py` saves a torchscale state_dict)
    /batch/src_tokens                 int64 [B,S]  right-padded with pad_index (1)
    /batch/prev_output_tokens         int64 [B,T]
    /batch/target                     int64 [B,T]
    /reference/loss, nll_loss         float64 scalars: fairseq label_smoothed_nll_loss (eps 0.1), summed over
                                      non-pad targets, divided by ntokens (natural log)
    /reference/ntokens                int64 scalar
    /reference/logits                 float32 [B,T,V]
    /reference/grads/<param name>     float32, d loss / d param for every model.named_parameters() entry
                                      (tied parameters appear once, under torchscale's owning name)
    root attributes                   DeepNet checkpoint attributes (architecture, encoder_layers, ..., method,
                                      config_json) plus provenance (torch/torchscale/h5py/numpy versions, seed).

Reference numerics: the model is built and initialized in float32 by torchscale (so the stored weights are
exactly what torchscale produced), then the forward/backward pass is run in float64 on those float32 weights;
results are rounded to float32 when stored.  During the float64 pass torchscale's two internal float32 casts
(softmax dtype=float32 in MultiheadAttention, x.float() around the FFN activation) are patched out, so the
reference is float64 end to end.  The float32 torch run is recorded too (attributes
`torch_float32_loss`, `torch_float32_max_grad_rel_l2`) to show how much float32 noise alone produces.

Semantics pinned here (they must match the Swift engine):
  * torchscale EncoderDecoder, dropout 0, layernorm eps 1e-5, embeddings scaled by sqrt(d)
    (no_scale_embedding=False, fairseq default); relu and share_all_embeddings=True unless the variant says
    otherwise (gelu is torch's exact erf form).
  * post-ln: deepnorm=False, subln=False, normalize_before=False.  pre-ln: normalize_before=True, subln=False
    (final encoder.layer_norm / decoder.layer_norm present).  deepnorm: deepnorm=True (alpha enc
    0.81*(N^4 M)^(1/16), dec (3M)^(1/4); torchscale init incl. its /1.15 encoder quirk).
  * Sinusoidal positions (post-ln-sinusoidal): fairseq SinusoidalPositionalEmbedding (table in float32,
    [sin | cos] halves, step log(10000)/(half-1), pad row zero, positions from make_positions), no parameter.
  * Learned positions: torchscale PositionalEmbedding with max_positions + pad + 1 rows (fairseq
    LearnedPositionalEmbedding size), padding_idx = pad.  torchscale uses positions arange(2, L+2); for
    right-padded batches this equals fairseq make_positions on every non-pad token.
  * torchscale's EncoderDecoder.forward builds no source padding mask; we call the encoder with
    encoder_padding_mask = src_tokens.eq(pad) (fairseq semantics: pad keys masked in encoder self-attention
    and in decoder cross-attention; pad rows of the embedding output zeroed).  The decoder self-attention gets
    only the causal mask (as in torchscale); with right padding this only changes pad rows, which carry no loss.
"""
import argparse
import json
import math
import os
import sys

import h5py
import numpy as np
import torch
import torch.nn.functional as F

import torchscale
from torchscale.architecture.config import EncoderDecoderConfig
from torchscale.architecture.encoder_decoder import EncoderDecoder
from torchscale.component.embedding import PositionalEmbedding, TextEmbedding

try:
    from importlib.metadata import version as _pkg_version
except ImportError:  # pragma: no cover
    _pkg_version = None

PAD, BOS, EOS = 1, 0, 2

# Fixture variants: golden_<name>.h5. The first three are the DeepNet methods on the main configuration; the
# last one checks the other embedding paths of the engine (fairseq sinusoidal positions, untied decoder
# input/output embeddings, gelu) on a smaller 2L-2L model to keep the fixtures small.
VARIANTS = {
    "post-ln": dict(method="post-ln"),
    "pre-ln": dict(method="pre-ln"),
    "deepnorm": dict(method="deepnorm"),
    "post-ln-sinusoidal": dict(method="post-ln", layers=2, positions="sinusoidal", share_all=False, activation="gelu"),
}


class FairseqSinusoidalPositions(torch.nn.Module):
    """fairseq SinusoidalPositionalEmbedding (get_embedding + utils.make_positions), as torchscale embed_positions.

    Table computed in float32 exactly like fairseq: half = d//2, step = log(10000)/(half-1),
    row p = [sin(p*f_0..f_{half-1}), cos(p*f_0..f_{half-1})], row padding_idx = 0; positions of non-pad tokens are
    padding_idx + 1 + (index among non-pad tokens), pad tokens use row padding_idx. Not a parameter.
    """
    def __init__(self, num_embeddings, dim, padding_idx):
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


def pkg_version(name, module=None):
    if module is not None and getattr(module, "__version__", None):
        return module.__version__
    try:
        return _pkg_version(name) if _pkg_version else "unknown"
    except Exception:
        return "unknown"


def make_batch(rng, B, S, T, V):
    """Right-padded batch with varied lengths; every row has >= 2 real tokens."""
    src = np.full((B, S), PAD, dtype=np.int64)
    tgt = np.full((B, T), PAD, dtype=np.int64)
    prev = np.full((B, T), PAD, dtype=np.int64)
    src_lens = [S, S - 2, 3][:B] + [S] * max(0, B - 3)
    tgt_lens = [T - 2, T, 2][:B] + [T] * max(0, B - 3)
    for b in range(B):
        ls, lt = src_lens[b], tgt_lens[b]
        src[b, : ls - 1] = rng.integers(4, V, size=ls - 1)
        src[b, ls - 1] = EOS
        body = rng.integers(4, V, size=lt - 1)
        tgt[b, : lt - 1] = body
        tgt[b, lt - 1] = EOS
        prev[b, 0] = EOS                      # fairseq: prev_output_tokens = [eos] + target[:-1]
        prev[b, 1:lt] = tgt[b, : lt - 1]
    return src, prev, tgt


def variant_settings(name, a):
    v = VARIANTS[name]
    return dict(method=v["method"], layers=v.get("layers", a.layers), positions=v.get("positions", "learned"),
                share_all=v.get("share_all", True), activation=v.get("activation", "relu"))


def build_model(name, a):
    v = variant_settings(name, a)
    method = v["method"]
    common = dict(
        encoder_embed_dim=a.dim, encoder_attention_heads=a.heads, encoder_ffn_embed_dim=a.ffn,
        encoder_layers=v["layers"], decoder_embed_dim=a.dim, decoder_attention_heads=a.heads,
        decoder_ffn_embed_dim=a.ffn, decoder_layers=v["layers"], activation_fn=v["activation"], dropout=0.0,
        attention_dropout=0.0, activation_dropout=0.0, drop_path_rate=0.0, no_scale_embedding=False,
        layernorm_embedding=False, share_all_embeddings=v["share_all"], vocab_size=a.vocab,
        max_source_positions=a.max_positions, max_target_positions=a.max_positions, layernorm_eps=1e-5,
    )
    if method == "post-ln":
        cfg = EncoderDecoderConfig(deepnorm=False, subln=False, encoder_normalize_before=False,
                                   decoder_normalize_before=False, **common)
    elif method == "pre-ln":
        cfg = EncoderDecoderConfig(deepnorm=False, subln=False, encoder_normalize_before=True,
                                   decoder_normalize_before=True, **common)
    elif method == "deepnorm":
        cfg = EncoderDecoderConfig(deepnorm=True, **common)
    else:
        raise ValueError(method)
    assert not cfg.subln
    embed = TextEmbedding(a.vocab, a.dim, padding_idx=PAD)          # N(0, d^-1/2), pad row 0
    dec_embed = None if v["share_all"] else TextEmbedding(a.vocab, a.dim, padding_idx=PAD)
    rows = a.max_positions + PAD + 1
    if v["positions"] == "learned":
        pos_e = PositionalEmbedding(rows, a.dim, padding_idx=PAD)
        pos_d = PositionalEmbedding(rows, a.dim, padding_idx=PAD)
        for p in (pos_e, pos_d):
            torch.nn.init.normal_(p.weight, mean=0, std=a.dim ** -0.5)
            with torch.no_grad():
                p.weight[PAD].zero_()
    else:
        pos_e = FairseqSinusoidalPositions(rows, a.dim, PAD)
        pos_d = FairseqSinusoidalPositions(rows, a.dim, PAD)
    model = EncoderDecoder(cfg, encoder_embed_tokens=embed, encoder_embed_positions=pos_e,
                           decoder_embed_tokens=dec_embed, decoder_embed_positions=pos_d)
    return model, cfg


def forward_backward(model, src, prev, tgt, V, eps):
    model.zero_grad(set_to_none=True)
    src_t, prev_t, tgt_t = (torch.from_numpy(x) for x in (src, prev, tgt))
    enc = model.encoder(src_t, encoder_padding_mask=src_t.eq(PAD))
    logits, _ = model.decoder(prev_t, encoder_out=enc)
    lprobs = F.log_softmax(logits, dim=-1).view(-1, V)
    t = tgt_t.view(-1)
    nll = -lprobs.gather(1, t.unsqueeze(1)).squeeze(1)
    smooth = -lprobs.sum(dim=-1)
    mask = t.eq(PAD)
    nll = nll.masked_fill(mask, 0.0)
    smooth = smooth.masked_fill(mask, 0.0)
    eps_i = eps / (V - 1)
    ntokens = int((~mask).sum())
    loss = ((1.0 - eps - eps_i) * nll + eps_i * smooth).sum() / ntokens
    nll_loss = nll.sum() / ntokens
    loss.backward()
    grads = {n: p.grad.detach().clone() for n, p in model.named_parameters()}
    return loss.item(), nll_loss.item(), ntokens, logits.detach(), grads


class _Float64Softmax:
    """Stands in for torch.nn.functional inside torchscale's MultiheadAttention during the float64 pass: its
    `F.softmax(..., dtype=torch.float32)` would otherwise round the attention probabilities to float32."""
    def __getattr__(self, name):
        return getattr(F, name)

    @staticmethod
    def softmax(x, dim=None, dtype=None, **kw):
        return F.softmax(x, dim=dim, **kw)


def _ffn_forward_float64(self, x):
    """FeedForwardNetwork.forward without its `x.float()` cast (dropout 0, subln off)."""
    x_shape = x.shape
    x = x.reshape(-1, x.size(-1))
    x = self.fc2(self.activation_fn(self.fc1(x)))
    return self.dropout_module(x.view(x_shape))


class float64_reference_pass:
    """Context manager: disable torchscale's internal float32 casts so a .double() model is float64 end to end."""
    def __enter__(self):
        import torchscale.component.multihead_attention as mha
        import torchscale.component.feedforward_network as ffn
        self._saved = (mha.F, ffn.FeedForwardNetwork.forward)
        mha.F = _Float64Softmax()
        ffn.FeedForwardNetwork.forward = _ffn_forward_float64
        return self

    def __exit__(self, *exc):
        import torchscale.component.multihead_attention as mha
        import torchscale.component.feedforward_network as ffn
        mha.F, ffn.FeedForwardNetwork.forward = self._saved


def rel_l2(a, b):
    a = a.double(); b = b.double()
    den = b.norm().item()
    num = (a - b).norm().item()
    return num / den if den > 0 else num


def config_attributes(name, a, eps):
    """DeepNet checkpoint attributes (one per ModelConfig field, snake_case) and the ModelConfig JSON."""
    v = variant_settings(name, a)
    cfg = dict(
        architecture="encoder-decoder", encoderLayers=v["layers"], decoderLayers=v["layers"], embedDim=a.dim,
        ffnDim=a.ffn, heads=a.heads, vocabSize=a.vocab, maxPositions=a.max_positions, positions=v["positions"],
        scaleEmbedding=True, shareAllEmbeddings=v["share_all"], shareDecoderInputOutputEmbed=False,
        activation=v["activation"], dropout=0.0, attentionDropout=0.0, activationDropout=0.0, labelSmoothing=eps,
        method=v["method"],
        alphaMultiplier=1.0, betaMultiplier=1.0, methodOptions={}, padIndex=PAD,
    )
    attrs = {}
    for k, v in cfg.items():
        snake = "".join("_" + c.lower() if c.isupper() else c for c in k)
        if isinstance(v, bool):
            attrs[snake] = np.int64(1 if v else 0)
        elif isinstance(v, int):
            attrs[snake] = np.int64(v)
        elif isinstance(v, float):
            attrs[snake] = np.float64(v)
        elif isinstance(v, dict):
            attrs[snake] = json.dumps(v, sort_keys=True)
        else:
            attrs[snake] = v
    attrs["config_json"] = json.dumps(cfg, sort_keys=True)
    return attrs


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    here = os.path.dirname(os.path.abspath(__file__))
    ap.add_argument("--out", default=os.path.join(here, "..", "Tests", "EngineTests", "Fixtures"))
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--dim", type=int, default=16)
    ap.add_argument("--ffn", type=int, default=32)
    ap.add_argument("--heads", type=int, default=4)
    ap.add_argument("--vocab", type=int, default=48)
    ap.add_argument("--max-positions", type=int, default=16)
    ap.add_argument("--label-smoothing", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=20220301)
    ap.add_argument("--variants", default=",".join(VARIANTS), help="comma-separated subset of " + ", ".join(VARIANTS))
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    torch.set_num_threads(1)

    versions = dict(
        torch_version=torch.__version__, torchscale_version=pkg_version("torchscale", torchscale),
        h5py_version=h5py.__version__, numpy_version=np.__version__,
        python_version=sys.version.split()[0],
    )
    B, S, T = 3, 7, 6
    for method in a.variants.split(","):
        seed = a.seed + list(VARIANTS).index(method)
        torch.manual_seed(seed)
        model, cfg = build_model(method, a)
        model.train()  # dropout is 0 everywhere; train mode only matters for nothing here
        rng = np.random.default_rng(seed)
        src, prev, tgt = make_batch(rng, B, S, T, a.vocab)

        state32 = {k: v.detach().clone().float() for k, v in model.state_dict().items()}
        # float32 torch run (for the record), then the float64 reference on the same float32 weights.
        l32, n32, _, _, g32 = forward_backward(model, src, prev, tgt, a.vocab, a.label_smoothing)
        model64 = model.double()
        with float64_reference_pass():
            loss, nll_loss, ntokens, logits, grads = forward_backward(model64, src, prev, tgt, a.vocab, a.label_smoothing)
        # Same error measure as the Swift golden test: relative L2 with the denominator floored at
        # 1e-4 x the largest per-tensor gradient norm (k_proj.bias has an exactly-zero true gradient).
        floor = 1e-4 * max(g.double().norm().item() for g in grads.values())
        max_rel32 = max((g32[n].double() - grads[n].double()).norm().item() / max(grads[n].double().norm().item(), floor)
                        for n in grads)

        path = os.path.join(a.out, f"golden_{method}.h5")
        tmp = path + ".tmp"
        with h5py.File(tmp, "w") as f:
            for k, v in state32.items():
                f.create_dataset(k, data=v.numpy().astype(np.float32))
            for k, v in config_attributes(method, a, a.label_smoothing).items():
                f.attrs[k] = str(v) if isinstance(v, str) else v
            f.attrs["format"] = "deepnet-checkpoint"
            f.attrs["format_version"] = np.int64(1)
            for k, v in versions.items():
                f.attrs[k] = str(v) if isinstance(v, str) else v
            f.attrs["generator"] = "scripts/make_golden_fixtures.py"
            f.attrs["seed"] = np.int64(seed)
            f.attrs["torchscale_config"] = json.dumps(
                {k: v for k, v in vars(cfg).items() if isinstance(v, (int, float, str, bool))}, sort_keys=True)
            f.attrs["reference_precision"] = "float64 forward/backward on the stored float32 weights"
            f.attrs["torch_float32_loss"] = np.float64(l32)
            f.attrs["torch_float32_nll_loss"] = np.float64(n32)
            f.attrs["torch_float32_max_grad_rel_l2"] = np.float64(max_rel32)
            if VARIANTS[method]["method"] == "deepnorm":
                N = M = variant_settings(method, a)["layers"]
                f.attrs["deepnorm_encoder_alpha"] = np.float64(0.81 * (N ** 4 * M) ** 0.0625)
                f.attrs["deepnorm_decoder_alpha"] = np.float64((3 * M) ** 0.25)
            g = f.create_group("batch")
            g["src_tokens"] = src
            g["prev_output_tokens"] = prev
            g["target"] = tgt
            r = f.create_group("reference")
            r["loss"] = np.float64(loss)
            r["nll_loss"] = np.float64(nll_loss)
            r["ntokens"] = np.int64(ntokens)
            r["logits"] = logits.float().numpy()
            rg = r.create_group("grads")
            for n, gr in grads.items():
                rg.create_dataset(n, data=gr.float().numpy())
        os.replace(tmp, path)
        print(f"{method:18s} loss={loss:.8f} nll={nll_loss:.8f} ntokens={ntokens} params={sum(v.numel() for v in grads.values())} "
              f"float32-torch max grad rel L2={max_rel32:.2e} -> {os.path.relpath(path)} ({os.path.getsize(path)} bytes)")


if __name__ == "__main__":
    main()
