"""Upstream repositories at pinned commits (`kb repos`) and code citations verified against them.

- `gitops`: small git operations (reading files at a commit, tags, local work) through gitpython;
- `pins`: which cards share a clone, resolving a pin, and the "pinned at" line (`pin_info`);
- `sync`: `kb repos sync` (clone or fetch, refuse to discard local work, check out detached);
- `lockfile`: `<id>.lock.yaml` beside a card, the copy of its cited snippets;
- `citations`: what pages and PDFs show for a citation, and `check_citations`;
- `status`: `kb repos status` and `repo_status` (synced, at pin, dirty, drift, license file).
"""
