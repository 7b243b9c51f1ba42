"""Prompts, answers and judge texts as the HTML a reader sees: markdown rendered, then sanitised.

Models and judges write markdown (code fences, lists, bold, headings,
tables); shown raw, ``**bold**`` and ```` ```python ```` get in the way of
reading. Everything they write is also untrusted, so the rendering is built
to leave nothing that runs or loads:

* comrak (a CommonMark and GitHub-flavoured markdown renderer in Rust)
  renders CommonMark with tables and strikethrough. It has no switch that
  shows raw HTML as the text it is: its safe mode drops it (``<br>`` in
  "use the <br> tag" would vanish) and its escape mode runs an HTML block's
  lines together. So while comrak reads a text, every ``<`` that opens no
  autolink (``<https://...>``) is hidden behind a stand-in character: no
  HTML can form, ``<script>`` or an HTML comment is read as text (its lines
  kept), and the stand-in becomes ``&lt;`` in the output (``<`` in code
  stays ``<``). The same trick keeps out images (the page is offline and
  may load nothing: ``![alt](url)`` shows as ``!`` and a link to the url)
  and strikethrough between single tildes. A link to a javascript:,
  vbscript:, file: or data: url keeps its text and leads nowhere;
* nh3 (the ammonia sanitiser) then keeps only the tags markdown makes, the
  attributes they need (a link's href and title, a list's start, a table
  cell's alignment) and links to http, https and mailto; a link opens in a
  new tab and tells the target nothing about the report.

The page's Content-Security-Policy (html_report.py) would still stop any
script or load that slipped through both.

Speed: comrak renders ~90 MB of real answers a second and nh3 cleans ~45 MB
of its HTML a second; the ~15 MB of text of a report of 500 questions x 6
models take about 0.65 s on one core, half of it in nh3. (markdown-it-py
took ~6 s; cmarkgfm, the binding of the C reference implementation, is as
fast as comrak but never frees the document tree it builds: ~7 bytes kept
for each byte rendered. A forked child rendering half of the texts saved
under 0.2 s of wall time, and nothing when the other core is busy, so all
are rendered here.)
"""
from __future__ import annotations

import html
import itertools
import re
from collections.abc import Iterable
from typing import NamedTuple

import comrak
import nh3

from utils.plumbing.store import repair_text

# hard breaks: a single newline is a line break, as models mean it in poems, addresses and step lists
_EXTENSIONS, _RENDER = comrak.ExtensionOptions(), comrak.RenderOptions()
_EXTENSIONS.table = _EXTENSIONS.strikethrough = _RENDER.hardbreaks = True


class _Hidden(NamedTuple):
    """What a text may not make of itself: hidden behind a stand-in character while comrak reads the text."""
    sign: str  # what a text holds when the pattern can match at all (most texts hold none of the three)
    pattern: re.Pattern
    in_text: str  # what the stand-in becomes in the output
    in_url: str  # what its percent-encoding in a link's url becomes


_HIDDEN = (
    _Hidden("![", re.compile(r"!(?=\[)"), "!", "!"),  # the "!" of "![": an image
    # a lone "~" ("~5 s", "3000~5000"): GitHub's markdown strikes text out between two of them, where
    # CommonMark readers such as markdown-it want "~~"; models mostly mean "about" or "to"
    _Hidden("~", re.compile(r"(?<!~)~(?!~)"), "~", "~"),
    # a "<" that opens no autolink: HTML. An autolink is a scheme and a URI without spaces or angle
    # brackets, or a mail address (here one that starts with a letter or digit: "<?", "<!" at a line's
    # start open HTML blocks), then ">"; none reads as HTML. Hidden last, so the autolinks kept are
    # those of the text comrak reads, with the stand-ins above in it.
    _Hidden("<", re.compile(r"<(?!(?:[A-Za-z][A-Za-z0-9.+-]{1,31}:[^\x00-\x20<>]*"
                            r"|[A-Za-z0-9][A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]*@"
                            r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
                            r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*)>)"), "&lt;", "%3C"),
)

# Stand-ins: editorial marks from Supplemental Punctuation (U+2E10..U+2E16) that models hardly ever
# write. Punctuation to CommonMark, as "<", "!" and "~" are, so emphasis beside them parses as it would
# beside the characters they stand for. In a link's url comrak writes one percent-encoded. A text gets
# those it holds in no form (the character, a numeric reference to it, its percent-encoding), so its own
# characters stay what they are.
_STAND_INS = tuple((c, "".join(f"%{b:02X}" for b in c.encode())) for c in "\u2e10\u2e11\u2e12\u2e13\u2e14\u2e15\u2e16")

_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre", "blockquote",
         "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
_ALIGN = {"align": {"left", "right", "center"}}
# one cleaner built once: building ammonia's settings on each call would cost as much as the cleaning
_CLEANER = nh3.Cleaner(tags=_TAGS, attributes={"a": {"href", "title"}, "ol": {"start"}},
                       tag_attribute_values={"th": _ALIGN, "td": _ALIGN}, url_schemes={"http", "https", "mailto"},
                       strip_comments=True, set_tag_attribute_values={"a": {"target": "_blank"}},
                       link_rel="noopener noreferrer")


def render_markdown(text: str) -> str:
    """``text`` (markdown from a model, a judge or a question) as sanitised HTML."""
    try:
        markup = _rendered(text)
    except UnicodeEncodeError:  # a lone surrogate (valid JSON, which the readers accept) that UTF-8 cannot hold
        text = repair_text(text)[0]
        markup = _rendered(text)
    if _too_deep(markup):
        markup = _as_text(text)
    return _CLEANER.clean(markup)


def render_texts(texts: Iterable[str]) -> dict[str, str]:
    """Each distinct text of ``texts`` -> its sanitised HTML (render_markdown)."""
    return {t: render_markdown(t) for t in dict.fromkeys(texts)}


def _rendered(text: str) -> str:
    """comrak's HTML for ``text``, where no HTML, image or single-tilde strikethrough of the text's own can form."""
    hidden = [h for h in _HIDDEN if h.sign in text]
    held = text + html.unescape(text) if "&#" in text else text  # comrak reads &#x2E10; as the character
    free = list(itertools.islice(((c, url) for c, url in _STAND_INS if c not in held and url not in text),
                                 len(hidden)))
    if len(free) < len(hidden):  # a text made to hold the stand-ins
        return _as_text(text)
    for h, (stand_in, _) in zip(hidden, free):
        text = h.pattern.sub(stand_in, text)
    out = comrak.render_markdown(text, extension_options=_EXTENSIONS, render_options=_RENDER)
    for h, (stand_in, in_url) in zip(hidden, free):
        out = out.replace(stand_in, h.in_text).replace(in_url, h.in_url)
    # comrak empties a javascript:, vbscript:, file: or data: url; such a link keeps its text and leads nowhere
    # (href="" would open the report itself)
    return out.replace('<a href=""', "<a")


# nh3's HTML parser takes time that grows with the square of how deep blocks nest: a text of 100,000 "> "
# (a quote in a quote...) would stall the report for a minute. comrak stops lists at about 100 levels,
# quotes never; markdown-it stopped all nesting at 20.
_MAX_DEPTH = 100
_NESTING_TAG = re.compile(r"<(/?)(?:blockquote|li)>")


def _too_deep(markup: str) -> bool:
    """Whether quotes and list items nest more than _MAX_DEPTH deep in ``markup`` (comrak's own HTML)."""
    if markup.count("<blockquote>") + markup.count("<li>") <= _MAX_DEPTH:  # most texts: no need to look closer
        return False
    depth = 0
    for tag in _NESTING_TAG.finditer(markup):
        depth += -1 if tag.group(1) else 1
        if depth > _MAX_DEPTH:
            return True
    return False


def _as_text(text: str) -> str:
    """``text`` shown as it is, its lines kept: for the rare text that cannot be rendered safely and quickly."""
    return "<p>" + html.escape(text, quote=False).replace("\n", "<br>\n") + "</p>"
