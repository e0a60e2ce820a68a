"""The embedding smoke test: load a checkpoint, pool, project to 512-D, check, report.

Stages, one module each (read `runner.smoke_card` top to bottom):

- `trust`: where the checkpoint is (inside `external_repos/<repo>/checkpoints/`), and whether upstream
  code may run (opt-in, pinned commit, clean tree, untracked code pinned by sha256);
- `loader`: offline loading through the Auto classes, a masked-LM wrapper's base model, or an entry point;
- `inputs`: seeded DNA / token-id / fMRI inputs, and the reverse complement done per tokenizer;
- `encode`: batching, forward pass, hidden layer, pooling, RC split;
- `projector`: the 512-D projector and fold-aware fitting (`cross_fit`) for users;
- `checks`: every check, each a named outcome in the report;
- `fingerprint` / `status`: the inputs hash a report is keyed by, and the status pages show
  (`status.project_status(project, loaded)` -> passed, failed, skipped, stale or not run).

Only `status` and `fingerprint` are light; everything else imports torch.
"""
