"""The console's HTML, rendered through the test client on the demo's data, holds no English sentence: the
quick twin of tests/browser/test_no_english.py (no browser, so it runs with the rest of the suite). It reads
the text between tags and the words a screen reader or a hover shows, on every sidebar page and one page of
each kind of link below it."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

from fissionmall.demo.campaigns import seed
from fissionmall.demo.loader import load_demo
from tests.console_helpers import _form_login
from tests.english import english_sentences

PASSWORD = "no-english-pass-1"
SKIP = re.compile(r"^/admin/logout|/export|\.(csv|xlsx|png|jpg)$")
READ_ATTRS = {"placeholder", "title", "aria-label", "alt"}


class _Reader(HTMLParser):
    """The words of a page a person reads, and its links (sidebar apart from the page's own)."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: list[str] = []
        self.nav: list[str] = []
        self.links: list[str] = []
        self._skip = 0  # inside <script>, <style> or <template> markup nobody reads as text
        self._in_nav = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag in ("script", "style"):
            self._skip += 1
        if tag == "nav":
            self._in_nav += 1
        self.lines += [a[k] for k in READ_ATTRS if a.get(k)]
        if tag == "input" and a.get("type") in ("button", "submit") and a.get("value"):
            self.lines.append(a["value"])
        if tag == "a" and a.get("href", "").startswith("/admin") and "download" not in a:
            (self.nav if self._in_nav else self.links).append(a["href"])

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style"):
            self._skip -= 1
        if tag == "nav":
            self._in_nav -= 1

    def handle_data(self, data: str) -> None:
        if not self._skip:
            self.lines.append(data)


def _read(html: str) -> _Reader:
    r = _Reader()
    r.feed(html)
    return r


def _kind(href: str) -> str:
    u = urlsplit(href)
    return re.sub(r"\d+", "N", u.path) + "?" + ",".join(sorted(kv.split("=")[0] for kv in u.query.split("&") if kv))


async def test_no_console_page_of_the_demo_holds_an_english_sentence(client, db, settings):
    assert await load_demo(settings, admin_password=PASSWORD)
    await seed(client, admin_password=PASSWORD, db=db)
    assert (await _form_login(client, "admin", PASSWORD)).status_code == 303
    home = _read((await client.get("/admin/")).text)
    sidebar = [h for h in dict.fromkeys(home.nav) if not SKIP.search(h)]
    assert len(sidebar) >= 12, sidebar
    seen = {_kind(h) for h in sidebar}
    queue, hits, visited = list(sidebar), [], []
    while queue:
        href = queue.pop(0)
        r = await client.get(href)
        assert r.status_code == 200, (href, r.status_code)
        page = _read(r.text)
        visited.append(href)
        hits += [(href, s) for line in page.lines for s in english_sentences(line)]
        if href in sidebar:  # one level down from the sidebar, one page per kind of link
            for h in page.links:
                if not SKIP.search(h) and _kind(h) not in seen:
                    seen.add(_kind(h))
                    queue.append(h)
    assert len(visited) > 30 and any(re.fullmatch(r"/admin/orders/\d+", v) for v in visited), visited
    assert not hits, "\n".join(f"{u}: {t}" for u, t in hits)


def test_the_reader_sees_text_and_the_attributes_people_read():
    page = _read(
        '<nav><a href="/admin/x">X</a></nav><main><p>Nothing to see here</p><script>var a = "in the code"</script>'
        '<input placeholder="Type a name"><button aria-label="Close the box">关闭</button>'
        '<input type="submit" value="Save all changes"><a href="/admin/y">Y</a></main>'
    )
    found = [s for line in page.lines for s in english_sentences(line)]
    assert found == ["Nothing to see here", "Type a name", "Close the box", "Save all changes"]
    assert page.nav == ["/admin/x"] and page.links == ["/admin/y"]
