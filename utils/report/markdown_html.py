"""Prompts, answers and judge texts as the HTML a reader sees: markdown rendered, then sanitised.

Models and judges write markdown (code fences, lists, bold, headings,
tables); shown raw, ``**bold**`` and ```` ```python ```` get in the way of
reading. Everything they write is also untrusted, so the rendering is built
to leave nothing that runs or loads:

* markdown-it renders CommonMark (with tables and strikethrough) with raw
  HTML off, so ``<script>`` or ``<img onerror=...>`` in an answer comes out
  as that text, and an HTML comment as its characters;
* images are not rendered (the page is offline and may load nothing): the
  markdown ``![alt](url)`` shows as ``!`` and a link to the url;
* nh3 (the ammonia sanitiser) then keeps only the tags markdown makes, the
  attributes they need (a link's href and title, a list's start, a table
  cell's alignment) and links to http, https and mailto; a link opens in a
  new tab and tells the target nothing about the report.

The page's Content-Security-Policy (html_report.py) would still stop any
script or load that slipped through both.

markdown-it-py is pure Python and renders about 1.5 MB of text a second on
one core, and a report of 500 questions x 6 models holds ~15 MB of answers and
judge texts: ``render_texts`` renders each distinct text once, and half of
them on the second core (utils/forked.py) when there is much to render.
"""
from __future__ import annotations

from collections.abc import Iterable

import nh3
from markdown_it import MarkdownIt

from utils.forked import ForkedChild
from utils.store import repair_text

# breaks: a single newline is a line break, as models mean it in poems, addresses and step lists
_MARKDOWN = (MarkdownIt("commonmark", {"html": False, "breaks": True})
             .enable(["table", "strikethrough"])
             .disable(["image", "html_block", "html_inline"]))  # the last two do nothing with html off

_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "s", "code", "pre", "blockquote",
         "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
_ATTRIBUTES = {"a": {"href", "title"}, "ol": {"start"}, "th": {"style"}, "td": {"style"}}
_SCHEMES = {"http", "https", "mailto"}


def render_markdown(text: str) -> str:
    """``text`` (markdown from a model, a judge or a question) as sanitised HTML."""
    try:
        return _sanitised(_MARKDOWN.render(text))
    except UnicodeEncodeError:  # a lone surrogate (valid JSON, which the readers accept) that UTF-8 cannot hold
        return _sanitised(_MARKDOWN.render(repair_text(text)[0]))


def _sanitised(html: str) -> str:
    return nh3.clean(html, tags=_TAGS, attributes=_ATTRIBUTES, url_schemes=_SCHEMES,
                     filter_style_properties={"text-align"}, strip_comments=True,
                     set_tag_attribute_values={"a": {"target": "_blank"}}, link_rel="noopener noreferrer")


# Below this many characters (about half a second of rendering) a second process is not worth its start
FORK_CHARS = 1_000_000


def render_texts(texts: Iterable[str], fork_chars: int = FORK_CHARS) -> dict[str, str]:
    """Each distinct text of ``texts`` -> its sanitised HTML (render_markdown), half of them in a forked child
    when they add up to ``fork_chars`` characters or more."""
    distinct = list(dict.fromkeys(texts))
    if sum(map(len, distinct)) < fork_chars:
        return {t: render_markdown(t) for t in distinct}
    theirs = distinct[1::2]  # every other text: long and short ones alike on each side
    with ForkedChild(lambda: [render_markdown(t) for t in theirs]) as child:
        html = {t: render_markdown(t) for t in distinct[0::2]}
        html.update(zip(theirs, child.result()))
    return html
