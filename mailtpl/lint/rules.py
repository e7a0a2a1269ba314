"""The rules besides client compatibility: size, images, links, accessibility, text part, subject, preheader.

Each rule has an id and a severity; ``RULES`` describes them (``mailtpl lint
--help`` and README list them). Addresses under the folder's
``preview_base_url`` stand for ``{{baseUrl}}`` and are not taken for
localhost or example domains.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator
from urllib.parse import urlsplit

from tinycss2.color3 import parse_color

from .css import MAX_DEPTH, depth
from .document import Document, declarations
from .findings import Finding

KB = 1024
MAX_HTML = 1024 * KB  # HTML read element by element; ten times what Gmail shows, a bound for hostile mail
RULES = {
    "gmail-clip": "error over 102 KB of HTML after inlining (Gmail clips the message), warning over 90 KB",
    "img-alt": "error: an <img> without alt (alt=\"\" marks a decorative image)",
    "img-http": "warning: an image loaded over http:",
    "img-dimensions": "warning: an <img> without numeric width and height attributes",
    "img-local": "error: an image on localhost, a private address or an example domain",
    "link-empty": "error: a link without an address",
    "link-hash": "warning: a link to # only",
    "link-javascript": "error: a javascript: link",
    "link-http": "warning: a link over http:",
    "link-local": "error: a link to localhost, a private address or an example domain",
    "html-lang": "warning: <html> without lang",
    "table-role": "warning: a layout table (no <th>, no <caption>) without role=\"presentation\"",
    "title": "warning: no <title>",
    "heading-order": "warning: a heading level skipped (h1 then h3)",
    "contrast": "warning: text/background contrast below WCAG AA (4.5:1, 3:1 for large text), from inline styles",
    "text-part": "warning: the plain-text part is empty",
    "subject-length": "warning: a subject over 78 characters",
    "preheader": "warning: no preheader (hidden preview text before the visible content)",
    "css-depth": f"warning: CSS nesting brackets over {MAX_DEPTH} deep, not read by the other checks",
}
EXAMPLE_DOMAINS = ("example.com", "example.net", "example.org")
LOCAL_SUFFIXES = (".localhost", ".local", ".test", ".example", ".invalid", ".internal")
_C0_AND_SPACE = "".join(map(chr, range(0x21)))
HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden|max-height\s*:\s*0(px)?\b|opacity\s*:\s*0(\.0*)?\b|"
                    r"mso-hide\s*:\s*all|font-size\s*:\s*0(px)?\b", re.I)


def check(doc: Document, *, elements: bool = True) -> Iterator[Finding]:
    """Findings of every rule; without ``elements`` (no HTML, or too much to read) of size, text and subject."""
    rules = (_size, _css_depth, _images, _links, _lang, _tables, _title, _headings, _contrast, _preheader) \
        if elements else (_size,)
    for rule in (*rules, _text, _subject):
        yield from rule(doc)


def _size(doc: Document) -> Iterator[Finding]:
    size = doc.size
    if size > 90 * KB:
        severity = "error" if size > 102 * KB else "warning"
        unread = f"; mailtpl reads the elements of {MAX_HTML // KB // KB} MB at most: no other HTML check ran" \
            if size > MAX_HTML else ""
        yield doc.finding("gmail-clip", severity, f"the HTML is {size / KB:.1f} KB after inlining: Gmail clips "
                          f"messages over 102 KB (\"[Message clipped]\"){unread}")


def _css_depth(doc: Document) -> Iterator[Finding]:
    for element in doc.elements:
        for where, css in (("style attribute", element.get("style")),
                           ("<style> block", element.text if element.tag.lower() == "style" else None)):
            if css and depth(css) > MAX_DEPTH:
                yield doc.finding("css-depth", "warning", f"the {where} nests brackets {depth(css)} deep: mailtpl "
                                  f"reads CSS {MAX_DEPTH} deep at most: the other checks skipped it", element)


def _images(doc: Document) -> Iterator[Finding]:
    for img in doc.find("img"):
        src = _url(img.get("src") or "")
        if img.get("alt") is None:
            yield doc.finding("img-alt", "error", f"<img src=\"{_short(src)}\"> has no alt text (alt=\"\" if it "
                              "is decorative)", img)
        if src.lower().startswith("http:") and not _stands_for_base_url(src, doc.placeholder_url):
            yield doc.finding("img-http", "warning", f"image over http: {_short(src)} (use https:)", img)
        missing = [name for name in ("width", "height") if not re.fullmatch(r"\d+", (img.get(name) or "").strip())]
        if missing:
            yield doc.finding("img-dimensions", "warning", f"<img src=\"{_short(src)}\"> has no numeric "
                              f"{' or '.join(missing)} attribute (Outlook shows it at its natural size; "
                              "the layout jumps while it loads)", img)
        if _local(src, doc.placeholder_url):
            yield doc.finding("img-local", "error", f"image on {_local(src, doc.placeholder_url)}: "
                              f"{_short(src)} (recipients cannot load it)", img)


def _links(doc: Document) -> Iterator[Finding]:
    for a in doc.find("a"):
        href = a.get("href")
        if href is None:
            if a.get("name") is None and a.get("id") is None:
                yield doc.finding("link-empty", "error", "<a> without href", a)
            continue
        href = _url(href)
        label = _short(" ".join(a.text_content().split())) or "(no text)"
        if not href:
            yield doc.finding("link-empty", "error", f"link \"{label}\" has an empty href", a)
        elif href == "#":
            yield doc.finding("link-hash", "warning", f"link \"{label}\" goes to # (nowhere)", a)
        elif href.lower().startswith("javascript:"):
            yield doc.finding("link-javascript", "error", f"link \"{label}\" is a javascript: link (email "
                              "clients do not run it)", a)
        elif href.lower().startswith("http:") and not _stands_for_base_url(href, doc.placeholder_url):
            yield doc.finding("link-http", "warning", f"link \"{label}\" uses http: {_short(href)}", a)
        if href and _local(href, doc.placeholder_url):
            yield doc.finding("link-local", "error", f"link \"{label}\" points at "
                              f"{_local(href, doc.placeholder_url)}: {_short(href)}", a)


def _url(value: str) -> str:
    """An address as browsers read it: no tabs or newlines inside, no spaces or controls around."""
    return re.sub(r"[\t\n\r]", "", value).strip(_C0_AND_SPACE)


def _stands_for_base_url(url: str, placeholder: str) -> bool:
    """An address under the base URL the email was rendered with for lint: the real one (ADMIN_WEB_URL) has
    its own host and scheme."""
    return bool(placeholder) and (url == placeholder or url.startswith(placeholder.rstrip("/") + "/"))


def _local(url: str, placeholder: str) -> str | None:
    """What makes ``url`` unreachable for a recipient (localhost, a private address, an example domain)."""
    if _stands_for_base_url(url, placeholder):
        return None
    try:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower().rstrip(".")
    except ValueError:
        return None
    if parts.scheme not in ("http", "https", "") or not host:
        return None
    if host == "localhost" or host.endswith(LOCAL_SUFFIXES):
        return "a local host name"
    if host in EXAMPLE_DOMAINS or host.endswith(tuple("." + d for d in EXAMPLE_DOMAINS)):
        return "an example domain"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return None
    return "a private address" if (address.is_private or address.is_loopback or address.is_unspecified) else None


def _lang(doc: Document) -> Iterator[Finding]:
    html = doc.traced.tree
    if not (html.get("lang") or "").strip():
        yield doc.finding("html-lang", "warning", "<html> has no lang attribute (screen readers guess the "
                          "language)", html)


def _tables(doc: Document) -> Iterator[Finding]:
    for table in doc.find("table"):
        if (table.get("role") or "").lower() in ("presentation", "none"):
            continue
        if table.xpath(".//th|.//caption"):
            continue
        yield doc.finding("table-role", "warning", "layout <table> without role=\"presentation\" (screen "
                          "readers announce rows and columns)", table)


def _title(doc: Document) -> Iterator[Finding]:
    titles = doc.find("title")
    if not titles or not titles[0].text_content().strip():
        yield doc.finding("title", "warning", "no <title> (shown by webmail in the browser tab and read by "
                          "screen readers)", (doc.find("head") or [doc.traced.tree])[0])


def _headings(doc: Document) -> Iterator[Finding]:
    previous = None
    for element in doc.elements:
        tag = element.tag.lower()
        if re.fullmatch(r"h[1-6]", tag):
            level = int(tag[1])
            if previous is not None and level > previous + 1:
                yield doc.finding("heading-order", "warning", f"<{tag}> follows <h{previous}>: a heading "
                                  f"level is skipped", element)
            previous = level


def _contrast(doc: Document) -> Iterator[Finding]:
    for element in doc.elements:
        if element.tag.lower() in ("style", "script", "title", "head", "html") or not _own_text(element):
            continue
        chain = [element, *element.iterancestors()]
        styles = [declarations(el) for el in chain]
        if not any("color" in s or _background(el, s) for el, s in zip(chain, styles)):
            continue
        fg = next((parse_color(s["color"]) for s in styles if "color" in s), None) or parse_color("black")
        bg = next((c for el, s in zip(chain, styles) if (c := _background(el, s))), None) or parse_color("white")
        if not hasattr(fg, "red") or not hasattr(bg, "red"):
            continue
        ratio = _ratio(_over(fg, bg), bg)
        size = next((_px(s["font-size"]) for s in styles if "font-size" in s), 16.0) or 16.0
        bold = any(s.get("font-weight", "").lower() in ("bold", "bolder", "700", "800", "900") for s in styles[:1]) \
            or element.tag.lower() in ("b", "strong", "h1", "h2", "h3")
        large = size >= 24 or (bold and size >= 18.66)
        needed = 3.0 if large else 4.5
        if ratio < needed:
            yield doc.finding("contrast", "warning", f"text \"{_short(_own_text(element))}\" has contrast "
                              f"{ratio:.2f}:1 ({_hex(fg)} on {_hex(bg)}); WCAG AA asks {needed:g}:1 for "
                              f"{'large' if large else 'normal'} text", element)


def _own_text(element) -> str:
    parts = [element.text or ""] + [child.tail or "" for child in element]
    return " ".join(" ".join(parts).split())


def _background(element, style: dict):
    for key in ("background-color", "background"):
        if key in style:
            for word in [style[key], *style[key].split()]:
                color = parse_color(word)
                if color is not None and hasattr(color, "red") and color.alpha > 0:
                    return color
    if element.get("bgcolor"):
        color = parse_color(element.get("bgcolor").strip())
        return color if color is not None and hasattr(color, "red") else None
    return None


def _over(fg, bg):
    a = fg.alpha
    return type(fg)(*(a * f + (1 - a) * b for f, b in zip(fg[:3], bg[:3])), 1.0)


def _luminance(color) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4
    r, g, b = (channel(c) for c in color[:3])
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def _ratio(a, b) -> float:
    la, lb = sorted((_luminance(a), _luminance(b)), reverse=True)
    return (la + 0.05) / (lb + 0.05)


def _hex(color) -> str:
    return "#" + "".join(f"{round(c * 255):02x}" for c in color[:3])


def _px(value: str) -> float | None:
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)(px|pt)?", value.strip().lower())
    if not match:
        return None
    return float(match.group(1)) * (4 / 3 if match.group(2) == "pt" else 1)


def _text(doc: Document) -> Iterator[Finding]:
    if not doc.traced.rendered.text.strip():
        fix = f"add {doc.email}.txt.hbs or text to the HTML" if doc.templated else "send a text/plain part"
        yield doc.finding("text-part", "warning", "the plain-text part is empty (spam filters and text-only "
                          f"clients need it): {fix}")


def _subject(doc: Document) -> Iterator[Finding]:
    subject = doc.traced.rendered.subject
    if len(subject) > 78:
        yield doc.finding("subject-length", "warning", f"the subject is {len(subject)} characters (over 78, "
                          f"inboxes cut it): {_short(subject, 200)!r}",
                          place=("mailtpl.json", None) if doc.templated else None)


def _preheader(doc: Document) -> Iterator[Finding]:
    body = (doc.find("body") or [doc.traced.tree])[0]
    for element in body.iter():
        if not isinstance(element.tag, str) or element.tag.lower() in ("style", "script"):
            continue
        hidden = bool(HIDDEN.search(element.get("style") or "")) or element.get("hidden") is not None
        if hidden and element.text_content().strip():
            return
        if not hidden and (element.text or "").strip():
            break
    first = " ".join(body.text_content().split())
    yield doc.finding("preheader", "warning", "no preheader: inboxes show the first text of the email as its "
                      f"preview (\"{_short(first)}\"); add a hidden element with a summary before the content", body)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[:limit - 3] + "..."
