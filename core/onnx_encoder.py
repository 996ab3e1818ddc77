"""The sentence-transformers graph run by ONNX Runtime at fp32: the same vectors as PyTorch, less overhead.

The graph (transformer, mean pooling, normalisation) is exported from the weights already on disk
with `torch.onnx` the first time it is needed and cached under DOXA_HOME/models, keyed by a hash of
the weights, so nothing is downloaded and a changed model gets a fresh export. Tokenisation uses the
model's own `tokenizer.json` through `tokenizers`, with the model's `max_seq_length`. No
quantisation: int8 drifted to 0.96 mean cosine in a trial, which is not the same model any more.

Example:
    >>> encoder = OnnxSentenceEncoder.load(model_path, cache_dir=settings.state_dir("models"))
    >>> encoder.encode(["How do I reset my password?"], batch_size=64).shape
    (1, 384)
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from core.errors import ConfigurationError

log = logging.getLogger(__name__)

_WEIGHTS = ("model.safetensors", "pytorch_model.bin")
_OPSET = 17
_SIDECAR = ".json"  # beside the .onnx file: max_seq_length, pad token, input names, dimension


def weights_digest(model_path: Path) -> str:
    """A short hash of the weights and configs that name the export (a changed model exports afresh)."""
    digest = hashlib.sha256()
    for name in (*_WEIGHTS, "config.json", "modules.json", "sentence_bert_config.json", "tokenizer.json"):
        path = model_path / name
        if path.is_file():
            digest.update(name.encode())
            with path.open("rb") as handle:
                for block in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(block)
    return digest.hexdigest()[:16]


def load_sentence_transformer(model_path: str, device: str) -> Any:
    """The sentence-transformers model at `model_path`, loaded without transformers' progress bar.

    The weight-loading bar is noise in CLI output and logs (Doxa announces the first load itself).
    """
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    return SentenceTransformer(model_path, device=device)


def export_onnx(model_path: Path, target: Path) -> None:
    """Export the sentence-transformers model at `model_path` (all its modules) to an fp32 ONNX graph.

    Written to a temporary file and renamed, so a concurrent process never reads half an export.
    """
    import torch

    model = load_sentence_transformer(str(model_path), "cpu").eval()

    class SentenceGraph(torch.nn.Module):
        """Token ids in, the model's normalised sentence embedding out."""

        def __init__(self) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.model(dict(zip(names, inputs, strict=True)))["sentence_embedding"]

    # `tokenize` was renamed `preprocess` in sentence-transformers 6 (the old name logs a warning).
    prepare = getattr(model, "preprocess", None) or model.tokenize
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        sample = prepare(["a short sentence", "a somewhat longer sentence to give the tokens axis a size"])
    names = [n for n in ("input_ids", "attention_mask", "token_type_ids") if n in sample]
    axes: dict[str, dict[int, str]] = {n: {0: "batch", 1: "tokens"} for n in names}
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, scratch = tempfile.mkstemp(prefix=target.name, suffix=".part", dir=target.parent)
    os.close(handle)
    try:
        # The tracer warns that a few shape checks (padding length, "is the mask given") become constants;
        # they are constant for this graph, and tests hold the export to PyTorch on lengths up to 256 tokens.
        # The TorchScript exporter is chosen on purpose (`dynamo=False` below): its deprecation notice is noise.
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore", torch.jit.TracerWarning)
            warnings.simplefilter("ignore", UserWarning)
            warnings.simplefilter("ignore", DeprecationWarning)
            torch.onnx.export(
                SentenceGraph(),
                tuple(sample[n] for n in names),
                scratch,
                input_names=names,
                output_names=["sentence_embedding"],
                dynamic_axes={**axes, "sentence_embedding": {0: "batch"}},
                opset_version=_OPSET,
                dynamo=False,  # the TorchScript exporter needs no onnxscript and handles BERT's dynamic axes
            )
        tokenizer = model.tokenizer
        sidecar = {
            "max_seq_length": int(model.max_seq_length or tokenizer.model_max_length),
            "pad_token": str(tokenizer.pad_token),
            "pad_token_id": int(tokenizer.pad_token_id),
            "inputs": names,
            "dimension": int(model.get_embedding_dimension() or 0),
        }
        target.with_suffix(_SIDECAR).write_text(json.dumps(sidecar), encoding="utf-8")
        os.replace(scratch, target)
    finally:
        if os.path.exists(scratch):
            os.unlink(scratch)


class OnnxSentenceEncoder:
    """Encodes texts with an exported sentence-transformers graph on ONNX Runtime's CPU provider."""

    def __init__(self, graph: Path, tokenizer_file: Path) -> None:
        import onnxruntime
        from tokenizers import Tokenizer

        sidecar = json.loads(graph.with_suffix(_SIDECAR).read_text(encoding="utf-8"))
        self.inputs: list[str] = list(sidecar["inputs"])
        self.dimension = int(sidecar["dimension"])
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(max_length=int(sidecar["max_seq_length"]))
        self.tokenizer.enable_padding(pad_id=int(sidecar["pad_token_id"]), pad_token=str(sidecar["pad_token"]))
        options = onnxruntime.SessionOptions()
        options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = onnxruntime.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])

    @classmethod
    def load(cls, model_path: Path, cache_dir: Path) -> OnnxSentenceEncoder:
        """The encoder for a local model folder, exporting its graph into `cache_dir` on first use."""
        tokenizer_file = model_path / "tokenizer.json"
        if not model_path.is_dir() or not tokenizer_file.is_file():
            raise ConfigurationError(
                f"the onnx embedding backend needs a local model folder with tokenizer.json, not {model_path};"
                " set DOXA_EMBEDDING_BACKEND=torch"
            )
        graph = cache_dir / f"{model_path.name}-{weights_digest(model_path)}.onnx"
        if not graph.is_file():
            log.info("exporting %s to ONNX (once, cached at %s)", model_path, graph)
            export_onnx(model_path, graph)
        return cls(graph, tokenizer_file)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """Normalised float32 vectors, one row per text; batches of similar length, as sentence-transformers does."""
        vectors = np.zeros((len(texts), self.dimension), dtype=np.float32)
        order = np.argsort([-len(text) for text in texts], kind="stable")
        for start in range(0, len(texts), batch_size):
            rows = order[start : start + batch_size]
            encodings = self.tokenizer.encode_batch([texts[i] for i in rows])
            vectors[rows] = self.session.run(None, self._feed(encodings))[0]
        return vectors

    def _feed(self, encodings: list[Any]) -> dict[str, np.ndarray]:
        columns = {
            "input_ids": [e.ids for e in encodings],
            "attention_mask": [e.attention_mask for e in encodings],
            "token_type_ids": [e.type_ids for e in encodings],
        }
        return {name: np.asarray(columns[name], dtype=np.int64) for name in self.inputs}
