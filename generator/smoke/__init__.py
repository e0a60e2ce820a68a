"""The embedding smoke test: load a checkpoint, pool, project to 512-D, check, report.

Stages, one module each (read `runner.smoke_card` and `runner.prepare` top to bottom):

- `trust`: where the checkpoint is (inside `external_repos/<repo>/checkpoints/`), and whether upstream
  code may run (opt-in, pinned commit, clean tree, untracked code pinned by sha256);
- `pinned`: exactly what is pinned runs: `auto_map` only inside the checkpoint folder, an entry point
  only from a pinned file of the clone, `smoke_test.requires` looked up as installed distributions;
- `loader`: offline loading, one function per `smoke_test.loader` name registered in `LOADERS` (the
  Auto classes, a masked-LM wrapper's base model, or an entry point);
  `tying`: weights the model's own code ties (Caduceus's reverse projections), tied again after loading;
- `inputs`: seeded DNA / token-id / fMRI inputs, tokenized as the card's smoke input says (special tokens
  or not), and the reverse complement done per tokenizer;
- `encode`: batching, forward pass, hidden layer, pooling, RC split;
- `run`: the typed `SmokeRun` (card, model, tokenizer, samples, pooled and projected outputs,
  tolerances, device) that every check reads;
- `checks`: every check as `check(run, report)`, and `CHECKS`, the ordered list saying which input
  kinds each applies to (a new check: one function there, one line in the list);
- `diagnose`: what the model's own code raised, explained as the stage's failed check and its fix;
- `projector`: the 512-D projector and fold-aware fitting (`cross_fit`) for users;
- `report`: the report of a card (`artifacts/smoke/<id>.json`), a pydantic model saved by `kb smoke` and
  read once with the card when the knowledge base loads (`LoadedCard.smoke`);
- `fingerprint` / `status`: the inputs hash a report is keyed by, the record of a checkpoint pulled
  from the hub and its verification, and the status pages show (`status.project_status(project,
  loaded)` -> passed, failed, skipped, stale or not run; a pass verified by an allowed signer or not);
- `signed`: a report's Ed25519 signature, made by `kb smoke` and checked against the allowed signers;
- `executor`, `jobs`, `job`, `local`, `slurm/`: where the tests run (inline, or one job per card that
  never has the project's tree on `sys.path`).

`report`, `status` and `fingerprint` are the package's interface to the rest of the product: no other
package imports anything else of it (`kb smoke` drives it through `executor` and signs through
`signed`), and `generator.hub`
uses it without the package using `hub` (ARCHITECTURE.md).

Errors carry their stage as `generator.exceptions.SmokeStage` on `SmokeError`; the runner turns each
into the failed check of that name. Checkpoints pulled from the hub (`generator.hub`) are verified
against the sha256 recorded at pull time (`fingerprint.verify`) before anything loads.

Only `status`, `fingerprint`, `report` and `run` are light; everything else imports torch.
"""
