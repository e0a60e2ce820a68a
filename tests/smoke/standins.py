"""Tiny random-weight stand-ins of each model family, saved as checkpoints inside local git
repositories (`external_repos/<repo>/checkpoints/<name>`), with model cards that pin those commits.

Used by the smoke tests (built once per session) and by benchmarks/smoke_bench.py.
"""

from __future__ import annotations

import itertools
import random
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any, Literal

from tests.factory import make_card, write_card

DATA = Path(__file__).resolve().parent.parent / "data" / "smoke"
HYENA_VOCAB = ["[CLS]", "[SEP]", "[BOS]", "[MASK]", "[PAD]", "[RESERVED]", "[UNK]", "A", "C", "G", "T", "N"]
"""HyenaDNA's and Caduceus' character vocabulary (A=7 C=8 G=9 T=10 N=11, PAD=4)."""


@dataclass
class StandIn:
    """One stand-in: its card (as a dict) and where its checkpoint sits."""

    card: dict[str, Any]
    repo: str
    checkpoint: str


# --- tokenizers -------------------------------------------------------------------------------------


def char_tokenizer(sep_at_end: bool, vocab_size: int | None = None) -> Any:
    """A character-level fast tokenizer with HyenaDNA's ids; optionally padded to `vocab_size` entries."""
    from tokenizers import Regex, Tokenizer, models, pre_tokenizers, processors
    from transformers import PreTrainedTokenizerFast

    vocab = {t: i for i, t in enumerate(HYENA_VOCAB)}
    for i in range(len(vocab), vocab_size or len(vocab)):
        vocab[f"[EXTRA{i}]"] = i
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.Split(Regex("."), behavior="isolated")
    if sep_at_end:
        tok.post_processor = processors.TemplateProcessing(single="$A [SEP]", special_tokens=[("[SEP]", 1)])
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        sep_token="[SEP]",
        cls_token="[CLS]",
        mask_token="[MASK]",
    )


def bpe_tokenizer(vocab_size: int = 64) -> Any:
    """A DNABERT-2-like BPE tokenizer trained on random DNA, with [CLS] ... [SEP]."""
    from tokenizers import Tokenizer, models, processors, trainers
    from transformers import PreTrainedTokenizerFast

    rng = random.Random(1)
    corpus = ["".join(rng.choice("ACGT") for _ in range(200)) for _ in range(50)]
    specials = ["[UNK]", "[CLS]", "[SEP]", "[PAD]", "[MASK]"]
    tok = Tokenizer(models.BPE(unk_token="[UNK]"))
    tok.train_from_iterator(
        corpus, trainers.BpeTrainer(vocab_size=vocab_size, special_tokens=specials, show_progress=False)
    )
    tok.post_processor = processors.TemplateProcessing(
        single="[CLS] $A [SEP]",
        special_tokens=[("[CLS]", tok.token_to_id("[CLS]")), ("[SEP]", tok.token_to_id("[SEP]"))],
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="[PAD]",
        unk_token="[UNK]",
        cls_token="[CLS]",
        sep_token="[SEP]",
        mask_token="[MASK]",
    )


def nt_tokenizer(folder: Path) -> Any:
    """The Nucleotide Transformer's tokenizer: EsmTokenizer over non-overlapping 6-mers (vocab 4107)."""
    from transformers import EsmTokenizer

    kmers = ["".join(p) for p in itertools.product("ATCG", repeat=6)]
    vocab = ["<unk>", "<pad>", "<mask>", "<cls>", "<eos>", "<bos>", *kmers, "A", "T", "C", "G", "N"]
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    return EsmTokenizer(str(folder / "vocab.txt"), eos_token=None)


# --- checkpoints ------------------------------------------------------------------------------------


def _params(model: Any) -> int:
    return sum(p.numel() for p in model.parameters())


def build_bert(out: Path) -> int:
    from transformers import BertConfig, BertModel

    tok = bpe_tokenizer()
    config = BertConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=512,
        pad_token_id=tok.pad_token_id,
    )
    model = _seeded(lambda: BertModel(config))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return _params(model)


def build_esm(out: Path) -> int:
    from transformers import EsmConfig, EsmForMaskedLM

    tok = nt_tokenizer(out)
    config = EsmConfig(
        vocab_size=len(tok),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=2050,
        position_embedding_type="rotary",
        pad_token_id=tok.pad_token_id,
        mask_token_id=tok.mask_token_id,
        token_dropout=False,
        emb_layer_norm_before=False,
        tie_word_embeddings=False,
    )
    model = _seeded(lambda: EsmForMaskedLM(config))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return _params(model)


def build_mamba(out: Path) -> int:
    from transformers import MambaConfig, MambaModel

    tok = char_tokenizer(sep_at_end=False, vocab_size=16)
    config = MambaConfig(
        vocab_size=16,
        hidden_size=16,
        num_hidden_layers=2,
        state_size=4,
        expand=2,
        conv_kernel=4,
        pad_token_id=4,
        use_mambapy=False,
    )
    model = _seeded(lambda: MambaModel(config))
    model.save_pretrained(out)
    tok.save_pretrained(out)
    return _params(model)


def build_vitmae(out: Path) -> int:
    """A BrainLM-like ViT-MAE reading a 32-ROI x 32-timepoint matrix as a one-channel image."""
    from transformers import ViTMAEConfig, ViTMAEModel

    config = ViTMAEConfig(
        image_size=32,
        patch_size=8,
        num_channels=1,
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        mask_ratio=0.75,
    )
    model = _seeded(lambda: ViTMAEModel(config))
    model.save_pretrained(out)
    return _params(model)


def _custom(
    out: Path,
    module_file: str,
    config_cls: str,
    auto: dict[str, str],
    config_kwargs: dict[str, Any],
    sep_at_end: bool,
    vocab_size: int,
    save: Callable[[Any, Path], None] | None = None,
) -> int:
    """Save a custom-code model the way hub repositories do: config.json with auto_map + modeling_*.py.
    `save(model, out)` writes the weights (default: save_pretrained)."""
    import importlib.util
    import sys

    out.mkdir(parents=True, exist_ok=True)
    shutil.copy(DATA / module_file, out / module_file)
    name = f"_kb_standin_{module_file[:-3]}"
    spec = importlib.util.spec_from_file_location(name, out / module_file)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    config = getattr(module, config_cls)(**config_kwargs)
    model_cls = getattr(module, auto["model"])
    config.auto_map = {
        "AutoConfig": f"{module_file[:-3]}.{config_cls}",
        auto["auto"]: f"{module_file[:-3]}.{auto['model']}",
    }
    model = _seeded(lambda: model_cls(config))
    (save or _save_pretrained)(model, out)
    # save_pretrained copies the module only for classes registered through auto_map; keep ours.
    shutil.copy(DATA / module_file, out / module_file)
    char_tokenizer(sep_at_end=sep_at_end, vocab_size=vocab_size).save_pretrained(out)
    return _params(model)


def _save_pretrained(model: Any, out: Path) -> None:
    model.save_pretrained(out)


WeightsFormat = Literal["safetensors", "bin", "safetensors-both"]


def save_as_upstream(model: Any, out: Path, weights: WeightsFormat = "safetensors") -> None:
    """Write a model whose parameters are shared (Caduceus's tied projections) as its authors' tools did,
    which transformers 4.57's save_pretrained refuses: config.json, and the weights as

    - `safetensors`: `model.safetensors` holding each shared tensor once, under the first of its names
      in sorted order (`mamba_fwd...`; safetensors' `save_model`, as the hub files are deduplicated);
    - `bin`: `pytorch_model.bin`, torch.save of the state dict (every name, the storage shared);
    - `safetensors-both`: `model.safetensors` with a copy under every name."""
    import torch
    from safetensors.torch import save_file, save_model

    model.config.save_pretrained(out)
    if weights == "safetensors":
        save_model(model, str(out / "model.safetensors"), metadata={"format": "pt"})
    elif weights == "bin":
        torch.save(model.state_dict(), out / "pytorch_model.bin")
    else:
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(out / "model.safetensors"), metadata={"format": "pt"})


def without_weight(folder: Path, name: str) -> None:
    """Take one tensor out of the checkpoint's `model.safetensors` (a checkpoint that truly lacks it)."""
    from safetensors.torch import load_file, save_file

    path = folder / "model.safetensors"
    state = load_file(str(path))
    del state[name]
    save_file(state, str(path), metadata={"format": "pt"})


def build_hyena(out: Path) -> int:
    return _custom(
        out,
        "modeling_hyena_standin.py",
        "HyenaStandinConfig",
        {"auto": "AutoModelForCausalLM", "model": "HyenaStandinForCausalLM"},
        {"vocab_size": 12, "d_model": 16, "n_layer": 2, "max_seq_len": 1024},
        True,
        12,
    )


COMPLEMENT = {7: 10, 10: 7, 8: 9, 9: 8}


CADUCEUS_SSM = {"d_state": 4, "d_conv": 4, "expand": 2, "dt_rank": "auto", "bias": False, "conv_bias": True}
"""The hub config's ssm_cfg (d_state 16 there), shrunk for speed."""

CADUCEUS_COMPLEMENT_MAP = {str(i): COMPLEMENT.get(i, i) for i in range(16)}
"""The hub config's complement_map: every id of the padded vocabulary of 16, string keys as in JSON."""


def build_caduceus(
    out: Path, rcps: bool, fused: bool = True, weights: WeightsFormat = "safetensors", **config: Any
) -> int:
    """A Caduceus-shaped checkpoint as the hub stores one: mamba-ssm imported as upstream does (here the
    reference kernels, the product's own `generator.smoke.reference`), the reverse projections tied by
    sharing parameters and saved once (`weights`: see `save_as_upstream`), and a character tokenizer
    that appends [SEP] as the hub tokenizer does. `fused`: fused_add_norm and rms_norm, as the hub
    config sets them; otherwise the unfused LayerNorm path. `config` overrides the tiny sizes."""
    from generator.smoke.reference import installed

    with installed():
        return _custom(
            out,
            "modeling_caduceus_standin.py",
            "CaduceusStandinConfig",
            {"auto": "AutoModel", "model": "CaduceusStandinModel"},
            {
                "vocab_size": 16,  # the hub config's (12 tokens, padded to a multiple of 8)
                "d_model": 16,
                "n_layer": 2,
                "ssm_cfg": dict(CADUCEUS_SSM),
                "rms_norm": fused,
                "fused_add_norm": fused,
                "residual_in_fp32": False,
                "rcps": rcps,
                "complement_map": dict(CADUCEUS_COMPLEMENT_MAP),
                **config,
            },
            True,
            16,
            partial(save_as_upstream, weights=weights),
        )


def _seeded(factory: Any) -> Any:
    import torch

    torch.manual_seed(0)
    return factory().eval()


# --- repositories and cards -------------------------------------------------------------------------


def git_commit_all(repo_dir: Path, message: str = "stand-in checkpoint") -> str:
    """Make `repo_dir` a git repository (if needed) and commit everything in it; returns the commit."""
    import git

    repo = git.Repo.init(repo_dir) if not (repo_dir / ".git").exists() else git.Repo(repo_dir)
    with repo.config_writer() as cw:
        cw.set_value("user", "name", "kb tests")
        cw.set_value("user", "email", "tests@example.org")
        cw.set_value("commit", "gpgsign", "false")
    repo.git.add(A=True)
    repo.index.commit(message)
    return str(repo.head.commit.hexsha)


def _card(card_id: str, repo: str, checkpoint: str, params: int, **over: Any) -> dict[str, Any]:
    base = {
        "id": card_id,
        "name": card_id,
        "alias": card_id,
        "repo": {"name": repo, "url": f"https://github.com/example/{repo}", "commit": "0" * 40},
        "checkpoints": [{"name": checkpoint, "path": checkpoint}],
    }
    card = make_card(**base)
    card["architecture"]["parameters"] = params
    card["architecture"].pop("embedding_dim", None)
    for key, value in over.items():
        target = card
        parts = key.split("__")
        for part in parts[:-1]:
            target = target.setdefault(part, {})
        target[parts[-1]] = value
    return card


def build_all(root: Path) -> dict[str, StandIn]:
    """Build every stand-in under `root/external_repos/`, commit each repository, return the cards."""
    repos = root / "external_repos"
    specs: dict[str, StandIn] = {}

    def ckpt(repo: str, name: str) -> Path:
        return repos / repo / "checkpoints" / name

    n = build_bert(ckpt("tiny-dnabert", "dnabert-tiny"))
    specs["tiny-dnabert"] = StandIn(
        _card(
            "tiny-dnabert",
            "tiny-dnabert",
            "dnabert-tiny",
            n,
            architecture__hidden_size=32,
            architecture__layers=2,
            tokenization={"kind": "bpe", "vocab_size": 64, "context": {"tokens": 512}},
            pooling={"strategy": "mean", "notes": "Mean over non-padding tokens."},
            evaluation={"zero_shot_method": "cosine-distance"},
            smoke_test={
                "checkpoint": "dnabert-tiny",
                "loader": "auto",
                "input": {"kind": "dna", "length": 64, "batch_size": 3},
            },
        ),
        "tiny-dnabert",
        "dnabert-tiny",
    )

    n = build_esm(ckpt("tiny-nt", "nt-v2-tiny"))
    specs["tiny-nt"] = StandIn(
        _card(
            "tiny-nt",
            "tiny-nt",
            "nt-v2-tiny",
            n,
            architecture__hidden_size=32,
            architecture__layers=2,
            tokenization={"kind": "k-mer", "k": 6, "vocab_size": 4107, "context": {"tokens": 2048}},
            pooling={"strategy": "mean", "reverse_complement": "average"},
            evaluation={"zero_shot_method": "cosine-distance"},
            smoke_test={
                "checkpoint": "nt-v2-tiny",
                "loader": "masked-lm",
                "base_model_attr": "esm",
                "input": {"kind": "dna", "length": 96, "batch_size": 3},
            },
        ),
        "tiny-nt",
        "nt-v2-tiny",
    )

    n = build_mamba(ckpt("tiny-mamba", "mamba-tiny"))
    specs["tiny-mamba"] = StandIn(
        _card(
            "tiny-mamba",
            "tiny-mamba",
            "mamba-tiny",
            n,
            architecture={
                "model_type": "causal",
                "family": "mamba",
                "hidden_size": 16,
                "layers": 2,
                "parameters": n,
            },
            tokenization={"kind": "character", "vocab_size": 16},
            pooling={"strategy": "mean"},
            evaluation={"zero_shot_method": "cosine-distance"},
            smoke_test={"checkpoint": "mamba-tiny", "input": {"kind": "dna", "length": 48, "batch_size": 2}},
        ),
        "tiny-mamba",
        "mamba-tiny",
    )

    n = build_hyena(ckpt("tiny-hyena", "hyena-tiny"))
    specs["tiny-hyena"] = StandIn(
        _card(
            "tiny-hyena",
            "tiny-hyena",
            "hyena-tiny",
            n,
            architecture={
                "model_type": "causal",
                "family": "hyena",
                "hidden_size": 16,
                "layers": 2,
                "parameters": n,
            },
            tokenization={"kind": "character", "vocab_size": 12, "context": {"tokens": 1024}},
            pooling={"strategy": "mean"},
            evaluation={"zero_shot_method": "log-likelihood-ratio"},
            smoke_test={
                "checkpoint": "hyena-tiny",
                "loader": "causal-lm",
                "trust_remote_code": True,
                "input": {"kind": "dna", "length": 64, "batch_size": 3},
            },
        ),
        "tiny-hyena",
        "hyena-tiny",
    )

    for variant, rc, fused in (
        ("ph", "average", True),
        ("ps", "split", True),
        ("ph-unfused", "average", False),
        ("ps-unfused", "split", False),
    ):
        n = build_caduceus(
            ckpt("tiny-caduceus", f"caduceus-{variant}-tiny"), rcps=variant.startswith("ps"), fused=fused
        )
        card_id = f"tiny-caduceus-{variant}"
        specs[card_id] = StandIn(
            _card(
                card_id,
                "tiny-caduceus",
                f"caduceus-{variant}-tiny",
                n,
                architecture={
                    "model_type": "encoder",
                    "family": "mamba",
                    "hidden_size": 16,
                    "layers": 2,
                    "parameters": n,
                },
                tokenization={"kind": "character", "vocab_size": 16},
                pooling={"strategy": "mean", "reverse_complement": rc},
                evaluation={"zero_shot_method": "cosine-distance"},
                smoke_test={
                    "checkpoint": f"caduceus-{variant}-tiny",
                    "trust_remote_code": True,
                    # As the shipped Caduceus cards: CUDA for mamba-ssm, which the reference replaces on CPU.
                    "requires_cuda": True,
                    "requires": ["mamba-ssm"],
                    # As the shipped cards' walkthroughs tokenize: the hub tokenizer appends [SEP].
                    "input": {"kind": "dna", "length": 48, "batch_size": 2, "add_special_tokens": False},
                },
            ),
            "tiny-caduceus",
            f"caduceus-{variant}-tiny",
        )

    n = build_vitmae(ckpt("tiny-brainlm", "brainlm-tiny"))
    specs["tiny-brainlm"] = StandIn(
        _card(
            "tiny-brainlm",
            "tiny-brainlm",
            "brainlm-tiny",
            n,
            modality="fmri",
            architecture={
                "model_type": "autoencoder",
                "family": "vit",
                "hidden_size": 32,
                "layers": 2,
                "parameters": n,
            },
            tokenization={"kind": "roi-tensors", "patch": "8 timepoints"},
            pooling={"strategy": "cls"},
            smoke_test={
                "checkpoint": "brainlm-tiny",
                "tokenizer": "none",
                "input": {
                    "kind": "roi-timeseries",
                    "rois": 32,
                    "length": 32,
                    "batch_size": 2,
                    "shape": [1, 32, 32],
                },
            },
        ),
        "tiny-brainlm",
        "brainlm-tiny",
    )

    commits = {repo.name: git_commit_all(repo) for repo in sorted(repos.iterdir())}
    for spec in specs.values():
        spec.card["repo"]["commit"] = commits[spec.repo]
        # The projector takes the pooled width: hidden_size here (Caduceus-PS's split halves its 2 x d).
        spec.card["integration"]["projector"]["in_dim"] = spec.card["architecture"]["hidden_size"]
    return specs


def write_project(root: Path) -> None:
    """Every stand-in built under the project `root`, with its card in `root/kb/` (the benchmarks' smoke
    stage runs `python -m tests.smoke.standins PROJECT` to make its project)."""
    for spec in build_all(root).values():
        write_card(root, spec.card)


if __name__ == "__main__":
    write_project(Path(sys.argv[1]))
