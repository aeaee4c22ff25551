"""Measuring a laid-out document: how far its content runs past its one page, or past
the wallet card's edges. Used by `check` (fit.py) and by every personal render, so a
value that does not fit is an error, never a silent overflow."""

from __future__ import annotations

import weasyprint

PX_TO_MM = 25.4 / 96


def _content_bottom(boxes) -> float:
    bottoms = [box.position_y + box.margin_height() for box in boxes
               if hasattr(box, "margin_height") and box.height is not None]
    return max(bottoms, default=0.0)


def _content_right(boxes) -> float:
    rights = [box.position_x + box.margin_width() for box in boxes
              if hasattr(box, "margin_width") and box.width is not None]
    return max(rights, default=0.0)


def overflow_mm(rendered: weasyprint.document.Document) -> float:
    """How far content runs past the first page, in mm (0 when it fits)."""
    total = 0.0
    for page in rendered.pages[1:]:
        root = page._page_box.children[0]
        total += _content_bottom(root.descendants()) - root.position_y
    return round(total * PX_TO_MM, 1)


def _classes(box) -> list[str]:
    """The HTML classes of the element a box (or an absolute placeholder) draws."""
    element = getattr(box, "element", None) or getattr(getattr(box, "_box", None), "element",
                                                       None)
    return (element.get("class") or "").split() if element is not None else []


def card_overflow_mm(rendered: weasyprint.document.Document) -> float:
    """How far the text of either side of the card runs past the card's bottom or right
    edge, in mm (crop marks, which sit outside the card on purpose, are not text)."""
    worst = 0.0
    for box in rendered.pages[0]._page_box.descendants():
        if "card" not in _classes(box) or not hasattr(box, "content_box_y"):
            continue
        inside = [child for child in box.descendants()
                  if "card" not in _classes(child) and "crop" not in _classes(child)]
        worst = max(worst, _content_bottom(inside) - (box.content_box_y() + box.height),
                    _content_right(inside) - (box.content_box_x() + box.width))
    return round(worst * PX_TO_MM, 1)
