"""Block Kit and Adaptive Card payloads as HTML pages, for screenshots in headless Chromium.

A stand-in for the Slack and Teams clients (which cannot run here): it draws the element types
our renderers emit (sections with mrkdwn, context, buttons, table; TextBlock, RichTextBlock/TextRun,
FactSet, Table, Container, Action.Execute) in the platforms' layout, so a picture shows what a person
reads. Text is escaped here, except Slack's own entities (&amp; &lt; &gt;), kept as they are.
"""

from __future__ import annotations

import html
import re
from typing import Any

PAGE = """<!doctype html><html><head><meta charset="utf-8"><style>
body {{ font-family: 'DejaVu Sans', sans-serif; background: #fff; color: #1d1c1d; margin: 16px;
  width: {width}px; }}
.msg {{ border-left: 4px solid {accent}; padding: 4px 12px; }}
.section {{ margin: 6px 0; font-size: 15px; line-height: 1.45; white-space: normal; }}
.context {{ margin: 4px 0; font-size: 12px; color: #616061; }}
pre {{ background: #f8f8f8; border: 1px solid #ddd; padding: 6px; white-space: pre-wrap; font-size: 12px; }}
code {{ background: #f4f4f4; border: 1px solid #e0e0e0; padding: 0 3px; font-size: 13px; color: #c01343; }}
.buttons button {{ margin: 8px 8px 0 0; padding: 6px 14px; border-radius: 4px; border: 1px solid #bbb;
  background: #fff; font-weight: bold; font-size: 14px; }}
.primary {{ background: #007a5a !important; color: #fff; border-color: #007a5a !important; }}
.danger {{ background: #e01e5a !important; color: #fff; border-color: #e01e5a !important; }}
.positive {{ background: #5b5fc7 !important; color: #fff; }}
.destructive {{ color: #c4314b; }}
.facts td {{ padding: 2px 10px 2px 0; vertical-align: top; font-size: 14px; }}
.facts td:first-child {{ font-weight: bold; }}
.container {{ border-top: 1px solid #e1dfdd; margin-top: 8px; padding-top: 6px; }}
.run {{ margin: 3px 0; font-size: 14px; white-space: pre-wrap; }}
.Bolder {{ font-weight: bold; }} .Attention {{ color: #c4314b; }} .Warning {{ color: #986f0b; }}
.grid {{ border-collapse: collapse; margin: 6px 0; font-size: 13px; }}
.grid th, .grid td {{ border: 1px solid #ccc; padding: 2px 8px; text-align: left; }}
.grid th {{ background: #f0f0f0; }}
.Accent {{ color: #5b5fc7; }} .Monospace {{ font-family: 'DejaVu Sans Mono', monospace; font-size: 12px; }}
</style></head><body><div class="msg">{body}</div></body></html>"""


def slack_page(blocks: list[dict[str, Any]], width: int = 760) -> str:
    return PAGE.format(width=width, accent="#e8912d", body="".join(_slack_block(b) for b in blocks))


def _slack_block(block: dict[str, Any]) -> str:
    kind = block.get("type")
    if kind == "section":
        return f'<div class="section">{mrkdwn(block["text"]["text"])}</div>'
    if kind == "context":
        return "".join(f'<div class="context">{mrkdwn(e.get("text", ""))}</div>' for e in block["elements"])
    if kind == "table":
        return _grid([[c.get("text", "") for c in row] for row in block["rows"]])
    if kind == "actions":
        buttons = "".join(
            f'<button class="{e.get("style", "")}">{html.escape(e["text"]["text"])}</button>'
            for e in block["elements"]
        )
        return f'<div class="buttons">{buttons}</div>'
    return ""


def mrkdwn(text: str) -> str:
    """Slack mrkdwn (already escaped with entities) as HTML: code blocks, code, bold, line breaks."""
    parts = re.split(r"```(.*?)```", text, flags=re.DOTALL)
    out = []
    for i, part in enumerate(parts):
        if i % 2:
            out.append(f"<pre>{part}</pre>")
            continue
        part = re.sub(r"`([^`]+)`", r"<code>\1</code>", part)
        part = re.sub(r"\*([^*\n]+)\*", r"<b>\1</b>", part)
        out.append(part.replace("\n", "<br>"))
    return "".join(out)


def teams_page(card: dict[str, Any], width: int = 760) -> str:
    body = "".join(_teams_element(e) for e in card.get("body", []))
    actions = "".join(
        f'<button class="{html.escape(a.get("style", ""))}">{html.escape(a["title"])}</button>'
        for a in card.get("actions", [])
    )
    return PAGE.format(width=width, accent="#5b5fc7", body=body + f'<div class="buttons">{actions}</div>')


def _teams_element(element: dict[str, Any]) -> str:
    kind = element.get("type")
    if kind == "RichTextBlock":
        return "".join(_run(i) for i in element["inlines"])
    if kind == "TextBlock":
        text = html.escape(element["text"]).replace("**", "")
        return f'<div class="run">{text}</div>'
    if kind == "FactSet":
        rows = "".join(
            f"<tr><td>{html.escape(f['title'])}</td><td>{html.escape(f['value'])}</td></tr>"
            for f in element["facts"]
        )
        return f'<table class="facts">{rows}</table>'
    if kind == "Table":
        cells = [[_cell_text(c) for c in row["cells"]] for row in element["rows"]]
        return _grid(cells)
    if kind == "Container":
        return f'<div class="container">{"".join(_teams_element(i) for i in element["items"])}</div>'
    return ""


def _grid(rows: list[list[str]]) -> str:
    """A table with its first row as the header, as both clients draw one."""
    head, *body = rows or [[]]
    top = "".join(f"<th>{html.escape(c)}</th>" for c in head)
    lines = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in body)
    return f'<table class="grid"><tr>{top}</tr>{lines}</table>'


def _cell_text(cell: dict[str, Any]) -> str:
    return " ".join(i["text"] for item in cell["items"] for i in item.get("inlines", [item]) if "text" in i)


def _run(inline: dict[str, Any]) -> str:
    classes = " ".join(str(inline[k]) for k in ("weight", "color", "fontType") if k in inline)
    return f'<div class="run {classes}">{html.escape(inline["text"])}</div>'
