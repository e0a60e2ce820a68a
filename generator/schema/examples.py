"""A complete example card of each kind, every optional field filled, named in the kind's declaration
(`CardKind.example`, `generator.schema`).

They are one small, consistent knowledge base (the model relates to the dataset and the integration
strategy, the recipe builds on the strategy, the derived cards start from the model), so that a stage
can be exercised on every kind and every field at once: the card-format reference shows them, and the
tests fill every text field of each with hostile text (`tests/hostile.py`) and compare the page, the
PDF and the export of each.
"""

from __future__ import annotations

from typing import Any

COMMIT = "0123456789abcdef0123456789abcdef01234567"

CITATION = {
    "title": "An example paper",
    "authors": ["Doe, Jane", "Roe, Richard"],
    "year": 2024,
    "venue": "Example Journal",
    "doi": "10.1234/example.5678",
    "arxiv": "2403.03234",
    "url": "https://example.org/paper",
}

MODEL: dict[str, Any] = {
    "schema_version": 1,
    "id": "example-model",
    "name": "Example Model",
    "alias": "ExampleM",
    "summary": "A small DNA encoder that shows every field of a model card.",
    "version": "example-model_d128_l2",
    "modality": "dna",
    "license": "Apache-2.0",
    "license_notes": "The repository's LICENSE file states Apache-2.0.",
    "developers": ["Example Lab"],
    "contact": "lab@example.org",
    "repo": {"name": "example-model", "url": "https://github.com/example/example-model", "commit": COMMIT},
    "purpose": {
        "summary": "Sequence embeddings for downstream models.",
        "intended_tasks": ["Embedding DNA windows."],
        "intended_datasets": ["Reference genomes."],
        "use_cases": ["Variant effect scoring."],
        "out_of_scope": ["Clinical decisions."],
    },
    "architecture": {
        "model_type": "encoder",
        "objective": "masked language modelling",
        "family": "transformer",
        "backbone": "BERT encoder",
        "layers": 2,
        "hidden_size": 128,
        "attention_heads": 2,
        "ffn_size": 512,
        "parameters": "1M",
        "embedding_dim": 128,
        "positional_encoding": "learned",
        "notable_blocks": ["Pre-norm blocks."],
        "modality_design": ["k-mer tokens."],
        "inductive_biases": ["Bidirectional context."],
        "variants": [{"name": "example-model-large", "description": "Twice the layers."}],
    },
    "tokenization": {
        "kind": "k-mer",
        "k": 6,
        "vocab_size": 4101,
        "patch": "6 bases",
        "context": {"tokens": 512, "bases": 3072, "description": "512 tokens (about 3 kb)"},
        "preprocessing": ["Upper-case the sequence."],
        "quirks": ["Ns become one token."],
        "inputs": [
            {"name": "DNA", "format": "FASTA", "preprocessing": ["Split into windows."], "dimensions": "3 kb"}
        ],
        "outputs": [{"name": "Embeddings", "format": "array", "dimensions": "128 per window"}],
    },
    "pooling": {
        "strategy": "mean",
        "layer": -1,
        "reverse_complement": "average",
        "notes": "Mean over the real tokens.",
        "aggregation": ["window", "gene", "subject"],
        "aggregation_notes": "Length-weighted means.",
    },
    "training": {
        "sources": [
            {
                "name": "Example genomes",
                "dataset": "example-dataset",
                "samples": "1,000 sequences",
                "tokens": "3M bases",
                "description": "Reference assemblies.",
            }
        ],
        "split": "Chromosome 8 held out.",
        "augmentation": "Reverse complements.",
        "preprocessing": ["Windows of 3 kb."],
        "hyperparameters": {
            "learning_rate": 0.0001,
            "batch_size": "256 sequences",
            "optimizer": "AdamW",
            "loss": "cross-entropy",
            "schedule": "10 epochs",
        },
        "environment": {"hardware": "1 GPU", "framework": "PyTorch", "distributed": "none"},
    },
    "checkpoints": [
        {
            "name": "example-model",
            "path": "example-model",
            "hub_id": "example/example-model",
            "revision": COMMIT,
            "url": "https://example.org/weights",
            "size": "4 MB",
            "notes": "Float32 weights.",
        }
    ],
    "walkthrough": [
        {
            "title": "Preprocess",
            "stage": "preprocess",
            "prose": "Upper-case the sequence.",
            "code": {"language": "python", "source": "seq = seq.upper()\n"},
        },
        {
            "title": "Encode",
            "stage": "encode",
            "prose": "Run the encoder.",
            "cite": {"path": "model/net.py", "lines": [10, 12]},
        },
    ],
    "integration": {
        "projector": {"in_dim": 128, "hidden_dim": 256, "out_dim": 512, "dropout": 0.1},
        "strategy": "example-integration",
        "fitting": "Fit the projector on training folds only.",
        "late_fusion": ["Concatenate with covariates."],
        "attribution": ["Leave one gene out."],
    },
    "evaluation": {
        "zero_shot_method": "cosine-distance",
        "primary_metrics": [{"name": "AUROC", "value": "0.8", "benchmark": "Example benchmark"}],
        "secondary_metrics": [{"name": "Latency", "value": "2 ms", "benchmark": "1 GPU"}],
    },
    "deployment": {
        "vram_inference": "about 1 GB",
        "requires_cuda": True,
        "quantization": ["Half precision."],
        "platforms": ["Linux."],
        "scaling": ["Batch windows."],
    },
    "usage": [{"title": "Embed a sequence", "code": {"language": "python", "source": "embed('ACGT')\n"}}],
    "fine_tuning": {
        "lora": {"r": 8, "alpha": 16, "target_modules": ["query", "value"]},
        "examples": [{"title": "Fine-tune", "code": {"language": "python", "source": "train(model)\n"}}],
    },
    "selection": {"best_for": ["short DNA windows"], "avoid_for": ["long contexts"]},
    "strengths": ["Fast."],
    "limitations": ["Short context."],
    "citations": [CITATION, {"title": "Its BibTeX", "bibtex": "@article{x,\n  title = {X}\n}\n"}],
    "links": {
        "docs": "https://example.org/docs",
        "issues": "https://github.com/example/example-model/issues",
        "hub": "https://huggingface.co/example/example-model",
        "paper": "https://example.org/paper",
        "other": [{"title": "A blog post", "url": "https://example.org/blog"}],
    },
    "related": {"datasets": ["example-dataset"], "recipes": ["example-recipe"]},
    "smoke_test": {
        "checkpoint": "example-model",
        "loader": "masked-lm",
        "base_model_attr": "bert",
        "input": {"kind": "dna", "length": 300, "batch_size": 2},
    },
    "unverified": ["The parameter count of the large variant."],
    "discrepancies": [{"field": "parameters", "source": "a benchmark", "stated": "2M", "upstream": "1M"}],
}

DATASET: dict[str, Any] = {
    "schema_version": 1,
    "id": "example-dataset",
    "name": "Example genomes",
    "summary": "Reference assemblies used to train the example model.",
    "modality": "dna",
    "description": "Assemblies of a few species.",
    "license": "CC-BY-4.0",
    "access": "Open download.",
    "url": "https://example.org/genomes",
    "size": "3 genomes",
    "preprocessing": ["Mask repeats."],
    "citations": [CITATION],
}

INTEGRATION: dict[str, Any] = {
    "schema_version": 1,
    "id": "example-integration",
    "name": "Example late fusion",
    "summary": "Project every embedding to 512-D on training folds, then fuse.",
    "description": "Fit, then fuse.",
    "projector": {"in_dim": 768, "hidden_dim": 1024, "out_dim": 512, "dropout": 0.1},
    "steps": ["Split the subjects into folds."],
    "baselines": ["Covariates alone."],
    "requirements": ["One row per sample."],
    "pitfalls": ["Fitting on all samples."],
    "citations": [CITATION],
}

RECIPE: dict[str, Any] = {
    "schema_version": 1,
    "id": "example-recipe",
    "name": "Example attribution recipe",
    "summary": "Leave one gene out and measure the drop.",
    "description": "A model-agnostic attribution.",
    "steps": ["Embed every gene."],
    "code": {"language": "python", "source": "drop = full - without(gene)\n"},
    "integrations": ["example-integration"],
    "citations": [CITATION],
}

_DERIVED: dict[str, Any] = {
    "schema_version": 1,
    "summary": "Trained on the example model's activations.",
    "base_model": {
        "name": "Example Model",
        "short_name": "example-model",
        "source": "Hugging Face",
        "hub_id": "example/example-model",
        "url": "https://huggingface.co/example/example-model",
    },
    "base_model_card": "example-model",
    "performance": {
        "final_loss": 0.5,
        "feature_activation_rate": 0.05,
        "metrics": {"Explained variance": "0.9"},
    },
    "intended_use": "Interpreting the example model.",
    "limitations": ["Small dictionary."],
    "notes": "Trained once.",
    "date": "2024-05-01",
    "author": "Example Lab",
    "license": "MIT",
    "weights": {
        "file": "model.pt",
        "size_bytes": 4096,
        "sha256": "0" * 64,
        "location": "example/weights",
    },
    "extra_sections": [{"title": "Citation", "body": "Cite the example paper."}],
}

SAE: dict[str, Any] = {
    **_DERIVED,
    "id": "example-model_mlp0_exp2_1m",
    "name": "example-model_mlp0_exp2_1M",
    "sae": {
        "layer": "mlp0",
        "target_layer": "MLP output of block 0",
        "hook_point": "blocks.0.hook_mlp_out",
        "input_dim": 128,
        "expansion_factor": 2,
    },
    "training": {
        "dataset": "Example genomes",
        "dataset_card": "example-dataset",
        "tokens": "1M",
        "batch_size": 4096,
        "context_size": 128,
        "learning_rate": 0.0004,
        "l1_coefficient": 0.001,
    },
}

FINETUNED: dict[str, Any] = {
    **_DERIVED,
    "id": "example-model_promoters_500k",
    "name": "example-model_promoters_500K",
    "domain": "promoters",
    "domain_description": "Promoter sequences.",
    "performance": {"final_loss": 0.4, "metrics": {"Accuracy": "0.9"}},
    "training": {
        "dataset": "Example promoters",
        "dataset_card": "example-dataset",
        "tokens": "500K",
        "batch_size": 32,
        "context_size": 512,
        "learning_rate": 0.00002,
        "epochs": 3,
        "method": "LoRA",
    },
}
