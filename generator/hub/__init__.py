"""Checkpoints from the model hub at pinned revisions: pull, record, verify, pin their code.

- `pull`: `kb checkpoints pull` downloads each card's `checkpoints[]` with huggingface_hub into
  `external_repos/<repo>/checkpoints/<path>` and records the sha256 of every file in the card's lock file;
- `record`: writing those records, and `kb checkpoints status` (a folder checked against them);
- `pin`: `kb checkpoints pin` writes `smoke_test.code_sha256` into the card, keeping its comments;
- `resolve`: `kb checkpoints resolve` writes the commit a hub branch or tag names into
  `checkpoints[].revision`. Both edit the card's text in place (`generator.yamledit`).

The record itself and its verification are the smoke package's (`generator.smoke.fingerprint`, which
`kb smoke` checks before loading): `hub` uses `smoke` through its interface, never the reverse. Only
`pull` and `resolve` import huggingface_hub.
"""
