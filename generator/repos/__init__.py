"""Upstream repositories at pinned commits (`kb repos`) and code citations verified against them."""
