"""Checkpoints from the model hub at pinned revisions: pull, record, verify, pin their code.

- `pull`: `kb checkpoints pull` downloads each card's `checkpoints[]` with huggingface_hub into
  `external_repos/<repo>/checkpoints/<path>` and records the sha256 of every file in the card's lock file;
- `record`: reading those records, and verifying a checkpoint folder against them (`kb smoke`, `status`);
- `pin`: `kb checkpoints pin` writes `smoke_test.code_sha256` into the card, keeping its comments;
- `resolve`: `kb checkpoints resolve` writes the commit a hub branch or tag names into
  `checkpoints[].revision`. Both edit the card's text in place (`generator.yamledit`).

Only `pull` and `resolve` import huggingface_hub.
"""
