"""Interoperability: cards in and out of the formats models already come in.

- `folder`: a seed-003 model folder (`model.pt`, `config.json`, `model_card.md`) -> an SAE or
  fine-tuned card;
- `hf`: a Hugging Face `README.md` (YAML front matter + Markdown) <-> a model card;
- `weights`: size and checksum of a weights file, or the Git LFS pointer that stands in for it;
- `markdown`: the small Markdown reader both importers share.

Importers never drop what they cannot place: it is kept in the card (`extra_sections`, notes) and
reported as a located `Problem` (file, line, section).
"""
