"""Check every internal link and anchor of the built site (``mkdocs build`` output).

``python tests/docs/linkcheck.py SITE_DIR`` exits 1 and lists each link whose page or anchor
does not exist. External links (http, https, mailto) are not fetched: the check runs offline,
in CI, and a dead external page is not the docs' bug to fail on. Written here rather than
with a link-checking package because those fetch external links or need a browser.
"""

from __future__ import annotations

import sys
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for key in ("id", "name"):
            if values.get(key):
                self.ids.add(values[key] or "")
        if tag == "a" and values.get("href"):
            self.links.append(values["href"] or "")


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def check(site: Path) -> list[str]:
    """Every broken internal link of ``site``, as ``page: link (why)``."""
    pages = {p: _parse(p) for p in sorted(site.rglob("*.html"))}
    problems: list[str] = []
    for path, page in pages.items():
        if "assets" in path.relative_to(site).parts:
            continue
        for href in page.links:
            parts = urlsplit(href)
            if parts.scheme or parts.netloc or href.startswith(("mailto:", "javascript:")):
                continue
            if not parts.path:
                target = path
            elif parts.path.startswith("/"):  # site-absolute (404.html uses these)
                target = (site / unquote(parts.path).lstrip("/")).resolve()
            else:
                target = (path.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site)}: {href}"
            if not target.exists():
                problems.append(f"{where} (no such page)")
                continue
            if parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else _parse(target).ids
                if unquote(parts.fragment) not in ids:
                    problems.append(f"{where} (no anchor #{parts.fragment})")
    return problems


def main(argv: list[str]) -> int:
    site = Path(argv[0] if argv else "site").resolve()
    if not (site / "index.html").exists():
        print(f"{site} has no index.html: build the site first (mkdocs build)")
        return 1
    problems = check(site)
    for problem in problems:
        print(problem)
    print(f"linkcheck: {len(problems)} broken internal link(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
