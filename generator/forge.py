"""Where a card lives on the forge (GitHub, GitLab, ...): its "edit this page" and "view source" links.

Read from mkdocs.yml's `repo_url` and `edit_uri`, as MkDocs reads them. The shipped mkdocs.yml takes
`repo_url` from the environment (`!ENV KB_REPO_URL`, set by the Pages workflow), so a local build
without it simply shows no forge links. `edit_uri` points at docs_dir on the forge (for example
`edit/main/site_src/`); a card outside docs_dir is reached from there with `../`.
"""

from __future__ import annotations

import os
import posixpath
import re
from typing import Any
from urllib.parse import urljoin


def config_value(value: Any) -> str | None:
    """A mkdocs.yml string, resolving MkDocs' `!ENV NAME` / `!ENV [NAME, ..., default]` tags as MkDocs does
    (the settings reader keeps tags as they are written)."""
    tag = getattr(getattr(value, "tag", None), "value", None) or getattr(value, "tag", None)
    if isinstance(tag, str) and tag == "!ENV":
        names = list(value) if isinstance(value, list) else [getattr(value, "value", value)]
        *variables, default = names if len(names) > 1 else [*names, None]
        for name in variables:
            if os.environ.get(str(name)):
                return os.environ[str(name)]
        return None if default is None else str(default)
    if value is None or value == "":
        return None
    return str(value)


def repo_url(config: dict[str, Any]) -> str | None:
    url = config_value(config.get("repo_url"))
    return url.rstrip("/") if url and url.startswith(("http://", "https://")) else None


def edit_url(config: dict[str, Any], docs_dir_rel: str, file_rel: str) -> str | None:
    """The forge's edit link of a repository file (`kb/model_cards/x.yaml`), or None without a forge.

    `docs_dir_rel` is docs_dir relative to the repository root (`site_src`)."""
    base = repo_url(config)
    if base is None:
        return None
    edit_uri = config_value(config.get("edit_uri"))
    if edit_uri is None:
        edit_uri = "edit/main/" + docs_dir_rel.strip("/") + "/"
    if not edit_uri.endswith("/"):
        edit_uri += "/"
    target = posixpath.relpath(file_rel, docs_dir_rel or ".")
    return urljoin(base + "/" + edit_uri.lstrip("/"), target)


def blob_url(config: dict[str, Any], docs_dir_rel: str, file_rel: str) -> str | None:
    """The forge's page showing a repository file (the edit link with `edit` turned into `blob`)."""
    url = edit_url(config, docs_dir_rel, file_rel)
    if url is None:
        return None
    return re.sub(r"/edit/", "/blob/", url, count=1)


def card_url(config: dict[str, Any], file_rel: str) -> str | None:
    """The forge's page of a repository file (`kb/model_cards/x.yaml`) on the branch `edit_uri` names,
    from mkdocs.yml's `repo_url`; None without a forge."""
    base = repo_url(config)
    if base is None:
        return None
    edit_uri = config_value(config.get("edit_uri")) or ""
    m = re.match(r"/?(?:edit|blob|src/branch|-/blob)/([^/]+)/", edit_uri)
    branch = m.group(1) if m else "HEAD"
    return f"{base}/blob/{branch}/{file_rel}"


def published_url(config: dict[str, Any], site_rel: str) -> str | None:
    """The absolute URL of a file of the built site (`kb/model_cards/x.yaml`), from mkdocs.yml's
    `site_url`; None without one."""
    site = config_value(config.get("site_url"))
    if not site or not site.startswith(("http://", "https://")):
        return None
    return urljoin(site.rstrip("/") + "/", site_rel)
