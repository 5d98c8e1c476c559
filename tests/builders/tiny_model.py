"""A tiny sentence-transformers model made here (random weights, MiniLM's tokenizer): fine-tuning it
takes a second or two, so the fine-tuning tests train a real model without MiniLM's minutes."""

from __future__ import annotations

from pathlib import Path


def make_tiny_model(folder: Path, seed: int = 0) -> Path:
    """Save a 2-layer, 32-dimension BERT with mean pooling under ``folder`` and return its path."""
    from narratives.hf_compat import hide_kernels_transformers_cannot_use

    hide_kernels_transformers_cannot_use()
    import torch
    from sentence_transformers import SentenceTransformer
    from sentence_transformers.sentence_transformer.modules import Pooling, Transformer
    from transformers import AutoTokenizer, BertConfig, BertModel

    from narratives.embed import default_model_path

    hub = folder / "hf"
    tokenizer = AutoTokenizer.from_pretrained(str(default_model_path()))
    config = BertConfig(
        vocab_size=tokenizer.vocab_size,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=128,
    )
    torch.manual_seed(seed)
    BertModel(config).save_pretrained(str(hub))
    tokenizer.save_pretrained(str(hub))
    model = SentenceTransformer(
        modules=[Transformer(str(hub), max_seq_length=64), Pooling(32, "mean")], device="cpu"
    )
    target = folder / "tiny-bert"
    model.save(str(target))
    return target
