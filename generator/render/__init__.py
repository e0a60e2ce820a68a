"""Rendering cards through Jinja: the one environment (`jinja`), safe Markdown (`markup`), views."""
