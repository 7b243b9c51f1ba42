"""Markdown rendered for the report: what a reader should see as formatting, and what must never survive.

Each hostile text is parsed back with the standard library's HTML parser (as
a browser would build elements from it): only the tags and attributes of
rendered markdown may come out, no link may lead anywhere but http, https or
mailto, and the hostile markup itself must still be readable as text.
"""
from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest

from utils.report.markdown_html import _STAND_INS, render_markdown, render_texts

MARKDOWN_TAGS = {"p", "br", "hr", "h1", "h2", "h3", "h4", "h5", "h6", "strong", "em", "del", "code", "pre",
                 "blockquote", "ul", "ol", "li", "a", "table", "thead", "tbody", "tr", "th", "td"}
LINK_ATTRIBUTES = {"href", "title", "target", "rel"}


class Parsed(HTMLParser):
    """The elements (tag, attributes), comments and text a browser would find in an HTML fragment."""

    def __init__(self, html: str):
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict]] = []
        self.comments: list[str] = []
        self.text = ""
        self.feed(html)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, dict(attrs)))

    def handle_comment(self, data):
        self.comments.append(data)

    def handle_data(self, data):
        self.text += data

    def tags(self) -> list[str]:
        return [t for t, _ in self.elements]


def assert_safe(html: str) -> Parsed:
    """Only markdown's own tags, no handler or style, a table cell's alignment, links only to the web or mail."""
    parsed = Parsed(html)
    assert not parsed.comments, html
    for tag, attrs in parsed.elements:
        assert tag in MARKDOWN_TAGS, (tag, html)
        allowed = LINK_ATTRIBUTES if tag == "a" else {"start"} if tag == "ol" else {"align"} if tag in ("th", "td") \
            else set()
        assert set(attrs) <= allowed, (tag, attrs)
        assert attrs.get("align") in (None, "left", "right", "center"), attrs
        if "href" in attrs:  # as a browser reads it: spaces and control characters taken out, any case
            href = re.sub(r"[\x00-\x20]", "", attrs["href"]).lower()
            assert urlsplit(href).scheme in ("http", "https", "mailto", ""), attrs
        if tag == "a":
            assert attrs.get("rel") == "noopener noreferrer" and attrs.get("target") == "_blank", attrs
    return parsed


def test_markdown_becomes_elements():
    text = ("# Title\n\nSome **bold** and *slanted* and ~~gone~~ words.\n\n## Steps\n\n1. Boil\n2. Pour\n\n"
            "- one\n- two\n\n> quoted\n\n```python\ndef f(x):\n    return x < 2 and x > 0\n```\n\n"
            "Inline `a < b` code.\n\n| name | n |\n|:-----|--:|\n| tea | 2 |\n\n---\n"
            "[a link](https://example.org/x?a=1&b=2)")
    parsed = assert_safe(render_markdown(text))
    tags = parsed.tags()
    for tag in ("h1", "h2", "strong", "em", "del", "ol", "ul", "blockquote", "pre", "code", "table", "th", "td", "hr",
                "a"):
        assert tag in tags, tag
    assert tags.count("li") == 4 and tags.count("code") == 2
    # code keeps its characters and its indentation, the markers are gone
    assert "def f(x):\n    return x < 2 and x > 0\n" in parsed.text and "```" not in parsed.text
    assert "**" not in parsed.text and "## " not in parsed.text
    assert ("th", {"align": "left"}) in parsed.elements and ("td", {"align": "right"}) \
        in parsed.elements
    assert dict(parsed.elements)["a"]["href"] == "https://example.org/x?a=1&b=2"


def test_a_single_newline_is_a_line_break():
    # a poem, as creative-writing answers are: each line stays a line
    parsed = assert_safe(render_markdown("Roses are red,\nviolets are blue."))
    assert parsed.tags() == ["p", "br"]


HOSTILE = {
    "script": "Sure.\n<script>window.__pwned=1</script>\nDone.",
    "script in a list": "- <script>alert(1)</script>\n- <SCRIPT SRC=//evil/x.js></SCRIPT>",
    "img onerror": 'A picture: <img src=x onerror="window.__pwned=2">',
    "svg onload": "<svg onload=alert(1)><circle r=5 /></svg>",
    "iframe and style": "<iframe src=\"javascript:alert(1)\"></iframe><style>body{display:none}</style>",
    "html block": "<div onclick=\"alert(1)\">\n\n**inside**\n\n</div>",
    "raw link": '<a href="javascript:alert(1)">click</a>',
    "html comment": "before <!-- a comment --> after\n\n<!--\nblock comment\n-->",
    "javascript link": "[click](javascript:alert(1))",
    "javascript link, mixed case and entity": "[a](JaVaScRiPt:alert(1)) [b](&#106;avascript:alert(1)) "
                                              "[c](java&#x09;script:alert(1))",
    "vbscript and file links": "[v](vbscript:msgbox(1)) [f](file:///etc/passwd)",
    "javascript autolink": "<javascript:alert(1)>",
    "javascript reference link": "[click][x]\n\n[x]: javascript:alert(1)",
    "data url link": "[d](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==) <data:text/html,<b>x</b>>",
    "data url image": "![dot](data:image/png;base64,iVBORw0KGgo=)",
    "remote image": "![tracker](https://example.org/pixel.png)",
    "javascript image": "![x](javascript:alert(1))",
    "quote in a link": '[q](https://example.org/"onmouseover="alert(1)) [t](https://example.org "a\\" onclick=\\"x")',
    "quote in an autolink": '<https://example.org/"onmouseover="alert(1)>',
    "closing script in code": "```html\n</script><script>alert(1)</script>\n```",
    "entities": "&lt;script&gt;alert(1)&lt;/script&gt; &#60;img src=x onerror=alert(1)&#62;",
}


@pytest.mark.parametrize("name", list(HOSTILE))
def test_nothing_hostile_survives(name):
    parsed = assert_safe(render_markdown(HOSTILE[name]))
    assert not {"script", "img", "svg", "iframe", "style", "div"} & set(parsed.tags())


def test_raw_html_is_shown_as_text():
    parsed = assert_safe(render_markdown(HOSTILE["script"] + "\n\n" + HOSTILE["img onerror"]))
    assert "<script>window.__pwned=1</script>" in parsed.text
    assert '<img src=x onerror="window.__pwned=2">' in parsed.text
    parsed = assert_safe(render_markdown(HOSTILE["html comment"]))
    assert "<!-- a comment -->" in parsed.text and not parsed.comments


def test_html_written_outside_code_keeps_its_lines():
    # a model that writes a page without a code fence: each line of it stays a line of text
    parsed = assert_safe(render_markdown("Use this:\n\n<div>\n<p>hi</p>\n</div>\n\nor the <br> tag."))
    assert "<div>\n<p>hi</p>\n</div>" in parsed.text and parsed.tags().count("br") == 2
    assert "or the <br> tag." in parsed.text


def test_an_autolink_is_a_link_and_a_lt_in_a_url_stays_in_it():
    parsed = assert_safe(render_markdown("See <https://example.org/a?b=1>, mail <me@example.org>, "
                                         "[q](https://example.org/?a<b) or <std::string>."))
    hrefs = [a.get("href") for t, a in parsed.elements if t == "a"]
    assert hrefs[:3] == ["https://example.org/a?b=1", "mailto:me@example.org", "https://example.org/?a%3Cb"]
    assert "std::string" in parsed.text and "<" not in parsed.text  # its scheme "std" is not let through


@pytest.mark.parametrize("text", ["<?x@example.org> tail\n\nnext", "<!x@example.org> tail", "<!--x@example.org> tail",
                                  "a <?x~@example.org> b ?> c"])
def test_what_looks_like_a_mail_autolink_but_opens_html_stays_text(text):
    # at a line's start "<?" and "<!" open HTML blocks, and "~" hidden from comrak breaks a mail autolink
    parsed = assert_safe(render_markdown(text))
    assert parsed.text.replace("\n", "") == text.replace("\n", "")


def test_emphasis_beside_a_lt_follows_commonmark():
    # "<" is punctuation, so "**" between a letter and "<" opens nothing, while "**<tag>**" is bold
    parsed = assert_safe(render_markdown("x**<y** and **<tag>**"))
    assert parsed.text.strip() == "x**<y** and <tag>" and parsed.tags() == ["p", "strong"]


def test_a_text_holding_the_stand_in_characters_keeps_them():
    own = _STAND_INS[0][0] + " " + _STAND_INS[1][0] + " [u](https://example.org/" + _STAND_INS[2][1] + ")"
    parsed = assert_safe(render_markdown(own + " <b>x</b> ![i](https://example.org/i.png) `a<b`"))
    assert parsed.text.strip() == own.split(" [")[0] + " u <b>x</b> !i a<b"
    assert [a["href"] for t, a in parsed.elements if t == "a"] == [
        "https://example.org/" + _STAND_INS[2][1], "https://example.org/i.png"]


def test_a_stand_in_written_as_a_character_reference_stays_that_character():
    parsed = assert_safe(render_markdown("&#x2E10; &#11793; <b> ~"))
    assert parsed.text.strip() == "\u2e10 \u2e11 <b> ~"


def test_one_tilde_strikes_nothing_two_strike_out():
    # models write "~" for "about" and for ranges; GitHub's markdown would strike out "5000 and 100"
    parsed = assert_safe(render_markdown("about ~5 s, 3000~5000 and 100~300 `a~b`, ~~gone~~"))
    assert parsed.text.strip() == "about ~5 s, 3000~5000 and 100~300 a~b, gone"
    assert parsed.tags() == ["p", "code", "del"]


def test_a_text_holding_every_stand_in_is_shown_as_it_is():
    text = "".join(c for c, _ in _STAND_INS) + "\n<b>**x**</b> <script>alert(1)</script>"
    parsed = assert_safe(render_markdown(text))
    assert parsed.text == text and parsed.tags() == ["p", "br"]


def test_a_link_keeps_its_text_when_its_target_is_dropped():
    parsed = assert_safe(render_markdown("[click](javascript:alert(1)) and [d](data:text/html,x)"))
    # no href at all: an empty one would open the report itself
    assert "click" in parsed.text and all("href" not in a for _, a in parsed.elements)


def test_a_quote_in_a_link_stays_inside_its_href():
    parsed = assert_safe(render_markdown(HOSTILE["quote in a link"]))
    links = [a for t, a in parsed.elements if t == "a"]
    assert len(links) == 2
    assert links[0]["href"].startswith("https://example.org/") and "onmouseover" in links[0]["href"]
    assert links[1]["title"] == 'a" onclick="x'


def test_an_image_becomes_a_link_to_it():
    parsed = assert_safe(render_markdown(HOSTILE["remote image"]))
    assert "img" not in parsed.tags()
    assert ("a", {"href": "https://example.org/pixel.png", "target": "_blank", "rel": "noopener noreferrer"}) \
        in parsed.elements and "tracker" in parsed.text


def test_each_distinct_text_is_rendered_once_and_keeps_its_own_html():
    texts = [f"{i}. item **{i}**\n\n```\ncode {i}\n```" for i in range(300)] + ["short"] * 3
    html = render_texts(texts)
    assert len(html) == 301 and html == {t: render_markdown(t) for t in texts}


def test_quotes_nested_beyond_a_hundred_levels_are_shown_as_their_text():
    # the sanitiser's time grows with the square of the depth: 100,000 levels would stall the report for a minute
    text = "> " * 20_000 + "deep"
    parsed = assert_safe(render_markdown(text))
    assert parsed.text.strip() == text.strip() and parsed.tags() == ["p"]
    parsed = assert_safe(render_markdown("> " * 100 + "deep enough"))
    assert parsed.tags().count("blockquote") == 100 and parsed.text.strip() == "deep enough"


def test_a_lone_surrogate_is_shown_as_a_replacement_character():
    # "\ud83d" alone is valid JSON, which the readers accept (utils/plumbing/jsonl.py), yet no UTF-8 can hold it
    parsed = assert_safe(render_markdown("half an emoji: \ud83d and **bold**"))
    assert "half an emoji: \ufffd and bold" in parsed.text and "strong" in parsed.tags()
