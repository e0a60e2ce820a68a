"""`kb smoke`: the embedding smoke test of each card's checkpoint, reported into artifacts/smoke/."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING

from generator.exceptions import ValidationFailed
from generator.knowledge import load_knowledge_base, narrow
from generator.schema import ModelCard, kinds_with
from generator.schema.card import HasSmokeTest
from generator.settings import Project
from generator.smoke.executor import EXECUTORS, SmokeOptions

if TYPE_CHECKING:
    from generator.smoke.report import Report

HELP = "load each card's checkpoint, pool and project it to 512-D, check it; reports in artifacts/smoke/"


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("ids", nargs="*", metavar="ID", help="card ids (default: every model card)")
    parser.add_argument(
        "--device",
        choices=("auto", "cpu", "cuda"),
        default=None,
        help="where to run (default: the smoke_device setting, auto = CUDA when available)",
    )
    parser.add_argument(
        "--kernels",
        choices=("auto", "native", "reference"),
        default="auto",
        help="mamba-ssm's kernels (native) or the product's pure-PyTorch reference kernels, which run "
        "on CPU; auto: native where they can run, the reference otherwise",
    )
    parser.add_argument(
        "--record", action="store_true", help="store the outputs as the golden reference next to each card"
    )
    parser.add_argument(
        "--executor",
        choices=EXECUTORS,
        default=None,
        help="inline: in this process; local: one subprocess job per card; slurm: one SLURM job per card "
        "with the card's smoke_test.resources (default: the smoke_executor setting)",
    )


def run(args: argparse.Namespace) -> int:
    project = Project.load(args.project)
    kb, problems = load_knowledge_base(project.root, None, project.kb_dir, project.smoke_dir)
    if not args.ids and any(p.is_error for p in problems):
        raise ValidationFailed(problems)
    # A named card's own problems only: `kb smoke bert` is not stopped by tiny-bert.yaml. Every kind
    # with a smoke test (`HasSmokeTest`, which CardKind allows on model cards only) is selected.
    selected = [m for c in kb.select(kinds_with(HasSmokeTest), args.ids) if (m := narrow(c, ModelCard))]
    options = SmokeOptions(args.device or project.settings.smoke_device, args.record, args.kernels)
    executor = args.executor or project.settings.smoke_executor
    sign = _signer(project)  # read before any model code runs

    from tqdm import tqdm

    if executor == "inline":  # a job imports them in its own process
        from generator.smoke.loader import import_torch, import_transformers

        import_torch()
        import_transformers()
    from generator.smoke.executor import run_all

    counts = {"passed": 0, "failed": 0, "skipped": 0}
    bar = tqdm(total=len(selected), desc="kb smoke", unit="card", file=sys.stderr, disable=None, leave=False)

    def step(card_id: str, stage: str) -> None:
        bar.set_postfix_str(f"{card_id}: {stage}")

    def say(line: str) -> None:
        bar.write(f"kb smoke: {line}", file=sys.stderr)

    # closing: leaving the loop early (Ctrl-C, SIGTERM) cancels the jobs still in flight at once
    with contextlib.closing(run_all(project, selected, options, executor, step, say)) as results:
        for loaded, report in results:
            sign(report)
            report.save(project.smoke_dir)
            bar.update()
            bar.write(_line(report), file=sys.stdout)
            counts[report.status] = counts.get(report.status, 0) + 1
            if report.status == "failed":
                for check in report.failures:
                    say(f"{loaded.id}: {check.name}: {check.message}")
    bar.close()
    print(
        f"{len(selected)} card(s): {counts['passed']} passed, {counts['skipped']} skipped, "
        f"{counts['failed']} failed; reports in {project.rel(project.smoke_dir)}/",
        file=sys.stderr,
    )
    return 1 if counts["failed"] else 0


def _signer(project: Project) -> Callable[[Report], object]:
    """What signs each report: the `KB_SIGNING_KEY` key under the name the allowed signers give it (or
    `KB_SIGNER`); nothing when no key is set. A key the allowed signers do not list still signs, with a
    warning that the publishing gate will not accept its reports."""
    from generator.signing import fingerprint, signing_key
    from generator.smoke.signed import sign_report, signer_name
    from generator.trusted import trusted

    key = signing_key(project.root)
    if key is None:
        return lambda report: report
    signers = trusted(project).signers
    name = signer_name(key, signers, os.environ.get("KB_SIGNER"))
    if signers.principal(key.public) is None:
        where = signers.source or "no allowed signers are configured (smoke_allowed_signers)"
        print(
            f"kb smoke: warning: the signing key {fingerprint(key.public)} is not an allowed signer "
            f"({where}): kb build --require-smoke will not accept these reports",
            file=sys.stderr,
        )
    print(f"kb smoke: signing reports as {name} ({fingerprint(key.public)})", file=sys.stderr)
    return lambda report: sign_report(report, key, name)


def _line(r: Report) -> str:
    """One line per card: status, id, device and dtype, timings, peak memory."""
    head = f"{r.status.upper():7} {r.id}"
    if r.status == "skipped":
        return f"{head}: {r.summary}"
    parts = [f"{r.device}/{r.dtype}"] if r.dtype else [] if r.job else [str(r.device)]
    if "load_s" in r.timings:
        parts.append(f"load {r.timings['load_s']:.2f} s")
    if "forward_per_sample_ms" in r.timings:
        parts.append(f"{r.timings['forward_per_sample_ms']:.1f} ms/sample")
    if r.memory:
        parts.append(f"peak {r.memory['peak_mb']:.0f} MB")
    if r.kernels.get("kind") == "reference":
        parts.append(str(r.kernels["label"]))
    if r.job.get("id"):
        node = f" on {r.job['node']}" if r.job.get("node") else ""
        parts.append(f"{r.job['executor']} job {r.job['id']}{node}")
    elif r.job:
        parts.append(f"{r.job['executor']} job {r.job.get('state', '').lower() or 'not run'}")
    return f"{head} ({', '.join(parts)})"
