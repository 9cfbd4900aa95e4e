"""The small Transformer of Eq. 10, its weights files, and reproducible initialisation."""
from __future__ import annotations

import contextlib
import hashlib
import json
from pathlib import Path

import numpy as np
import torch
from torch import nn

from ..errors import SimulationError

__all__ = ["LatentTransformer", "save_weights", "load_weights", "weights_fingerprint",
           "resolve_weights", "seeded", "WEIGHTS_DIR", "pick_device", "torch_threads"]

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"


@contextlib.contextmanager
def seeded(seed: int):
    """Run a block with torch's RNG seeded, leaving the global RNG state as it was."""
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(int(seed))
        yield


class LatentTransformer(nn.Module):
    """``L_{t+1}, y_t = Transformer(L_t, Embed(M_{t-H+1..t}))`` (seed 000, Eq. 10).

    Tokens: the latent state ``L_t`` (width) followed by the last ``history`` standardised
    feature vectors, each projected to ``width``, plus learned position embeddings. The
    encoder's output at the latent token is ``L_{t+1}`` (bounded by the final LayerNorm);
    a linear head decodes it to ``n_outputs`` values (``g_decode``).
    """

    def __init__(self, n_features: int, n_outputs: int, *, width: int = 32, heads: int = 2,
                 layers: int = 1, history: int = 4):
        super().__init__()
        if width % heads:
            raise ValueError(f"width ({width}) must be a multiple of heads ({heads})")
        self.shape = dict(n_features=int(n_features), n_outputs=int(n_outputs), width=int(width),
                          heads=int(heads), layers=int(layers), history=int(history))
        self.embed = nn.Linear(n_features, width)
        self.position = nn.Parameter(torch.zeros(history + 1, width))
        layer = nn.TransformerEncoderLayer(width, heads, dim_feedforward=2 * width, dropout=0.0,
                                           batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.decode = nn.Linear(width, n_outputs)
        self.register_buffer("feature_mean", torch.zeros(n_features, dtype=torch.float64))
        self.register_buffer("feature_std", torch.ones(n_features, dtype=torch.float64))
        self.register_buffer("output_mean", torch.zeros(n_outputs, dtype=torch.float64))
        self.register_buffer("output_std", torch.ones(n_outputs, dtype=torch.float64))

    def forward(self, latent, history):
        """``latent (B, width)``, ``history (B, H, n_features)`` raw features -> (latent', y)."""
        z = ((history.double() - self.feature_mean) / self.feature_std).float()
        tokens = torch.cat([latent[:, None, :], self.embed(z)], dim=1) + self.position
        hidden = self.encoder(tokens)
        new_latent = hidden[:, 0]
        y = self.decode(new_latent).double() * self.output_std + self.output_mean
        return new_latent, y


def save_weights(path, model: LatentTransformer, meta: dict):
    """Write ``model``'s state_dict with its shape and ``meta`` (torch file, or .safetensors)."""
    path = Path(path)
    header = {"shape": model.shape, **meta}
    state = {k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()}
    if path.suffix == ".safetensors":
        from safetensors.torch import save_file
        save_file(state, str(path), metadata={"greybox": json.dumps(header)})
    else:
        torch.save({"greybox": header, "state_dict": state}, path)


def resolve_weights(name: str) -> Path:
    """A weights path as given, or the name of a file shipped in ``neural/weights/``."""
    path = Path(name)
    if path.is_file():
        return path
    shipped = WEIGHTS_DIR / name
    if shipped.is_file():
        return shipped
    known = sorted(p.name for p in WEIGHTS_DIR.glob("*") if p.suffix in (".pt", ".safetensors"))
    raise ValueError(f"weights file {name!r} not found (as a path or among the shipped weights "
                     f"{known}); give an existing file, or '' for random weights from 'seed'")


def weights_fingerprint(name) -> str:
    """SHA-256 (first 16 hex digits) of a weights file's tensors: names, dtypes, shapes and
    values in name order. It identifies the trained parameters, not the file's bytes (a torch
    file re-saved or converted to safetensors keeps its fingerprint)."""
    _, state = load_weights(name)
    digest = hashlib.sha256()
    for key in sorted(state):
        tensor = state[key].detach().cpu().contiguous()
        digest.update(f"{key}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.numpy().tobytes())
    return digest.hexdigest()[:16]


def load_weights(name) -> tuple:
    """``(header, state_dict)`` from a torch or safetensors weights file."""
    path = resolve_weights(str(name))
    if path.suffix == ".safetensors":
        try:
            from safetensors.torch import load_file
            from safetensors import safe_open
        except ImportError:
            raise ValueError(f"{path} is a safetensors file but the safetensors package is not "
                             "installed; pip install safetensors, or use a torch .pt file") from None
        with safe_open(str(path), framework="pt") as handle:
            header = json.loads((handle.metadata() or {}).get("greybox", "{}"))
        return header, load_file(str(path))
    blob = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(blob, dict) and "state_dict" in blob:
        return blob.get("greybox", {}), blob["state_dict"]
    return {}, blob  # a bare state_dict


def load_into(model: LatentTransformer, state: dict, source: str, config_names: dict):
    """Load ``state`` into ``model``; mismatched shapes give a ValueError naming what to change."""
    own = model.state_dict()
    missing = sorted(set(own) - set(state))
    extra = sorted(set(state) - set(own))
    bad = [(k, tuple(state[k].shape), tuple(own[k].shape)) for k in own
           if k in state and tuple(state[k].shape) != tuple(own[k].shape)]
    if missing or extra or bad:
        detail = "; ".join([f"{k}: file {a}, configured {b}" for k, a, b in bad[:4]] +
                           ([f"missing {missing[:4]}"] if missing else []) +
                           ([f"unexpected {extra[:4]}"] if extra else []))
        raise ValueError(f"weights {source!r} do not fit the configured network "
                         f"({config_names}): {detail}. Set width/heads/layers/history/"
                         "inputs/outputs to the values the file was trained with, or retrain "
                         "(greybox_processes.neural.train)")
    model.load_state_dict(state)


@contextlib.contextmanager
def torch_threads(n: int):
    """Run a block with ``n`` intra-op threads, restoring the previous count.

    A network this small gains nothing from threads, and on a loaded machine the thread
    pool's spin-waits cost 20x (2 ms -> 47 ms per step measured on 2 shared cores).
    """
    previous = torch.get_num_threads()
    if n == previous or n < 1:
        yield
        return
    torch.set_num_threads(int(n))
    try:
        yield
    finally:
        torch.set_num_threads(previous)


def pick_device(name: str) -> torch.device:
    """'cpu' (default), 'cuda' (error if absent) or 'auto' (CUDA when present)."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name.startswith("cuda"):
        if not torch.cuda.is_available():
            raise ValueError(f"device {name!r} asked for but CUDA is not available; use 'cpu' "
                             "or 'auto'")
        return torch.device(name)
    raise ValueError(f"device must be 'cpu', 'cuda' or 'auto', got {name!r}")


def finite_or_raise(array: np.ndarray, what: str):
    """Raise SimulationError if ``array`` has NaN/inf (nothing non-finite enters a store)."""
    if not np.all(np.isfinite(array)):
        bad = int(np.sum(~np.isfinite(array)))
        raise SimulationError(f"{what} produced {bad} non-finite value(s) (NaN/inf) of "
                              f"{array.size}; nothing was written "
                              "to the stores. Check the weights file (retrain or reload) and the "
                              "input stores it reads")
