from typing import Any

import numpy as np
import pytest

from core.embeddings import Embedder


def test_repeated_texts_are_encoded_once(embedder: Embedder, monkeypatch: pytest.MonkeyPatch) -> None:
    remembering = embedder.remembering(capacity=2)
    remembering.warm_up()
    seen: list[list[str]] = []
    original = remembering._model.encode

    def counting(texts: list[str], *args: Any, **kwargs: Any) -> Any:
        seen.append(list(texts))
        return original(texts, *args, **kwargs)

    monkeypatch.setattr(remembering._model, "encode", counting)
    first = remembering.encode(["reset my password", "invoice charged twice"])
    again = remembering.embed_query("reset my password")
    assert seen == [["reset my password", "invoice charged twice"]]
    np.testing.assert_allclose(again, first[0])
    np.testing.assert_allclose(first[0], embedder.embed_query("reset my password"), atol=1e-5)

    remembering.encode(["a third text"])  # capacity 2: the least recently used text is forgotten
    remembering.encode(["reset my password", "invoice charged twice"])
    assert seen[-1] == ["invoice charged twice"]
