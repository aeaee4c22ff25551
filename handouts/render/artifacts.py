"""PDF/UA: running footers and page numbers as pagination artifacts.

WeasyPrint tags the text of page margin boxes (our footer and "page X / Y") as marked
content with an MCID whose structure element it leaves out of the structure tree (PDF
1.7 has no artifact element), so that content is neither in the tree nor an artifact,
which PDF/UA-1 forbids. Every such sequence is turned into an `/Artifact` of type
`/Pagination` and its entry in the parent tree is cleared. Backgrounds, borders and
rules are already drawn inside `/Artifact` sequences by WeasyPrint.

Only the marked-content operators change, so the drawing is the same. The change is an
incremental update (the page content streams and the parent tree, rewritten under their
own object numbers, and a cross-reference stream): WeasyPrint's bytes and object
numbers stay as they are, which stamping (render/stamp.py) relies on, and the same
input gives the same bytes.
"""

from __future__ import annotations

import io
import re

import pikepdf

from .pdfout import flate_body, indirect, xref_stream

PAGINATION = b"/Artifact <</Type /Pagination>> BDC"


def reachable_elements(pdf: pikepdf.Pdf) -> set[tuple[int, int]]:
    """The structure elements reachable from the structure tree root."""
    seen: set[tuple[int, int]] = set()
    stack = [pdf.Root.StructTreeRoot]
    while stack:
        node = stack.pop()
        if isinstance(node, pikepdf.Array):
            stack.extend(node)
            continue
        if not isinstance(node, pikepdf.Dictionary):
            continue
        if node.is_indirect:
            if node.objgen in seen:
                continue
            seen.add(node.objgen)
        if "/K" in node and node.get("/Type") != "/MCR":
            stack.append(node.K)
    return seen


def mark_pagination_artifacts(data: bytes) -> bytes:
    """The PDF with every marked-content sequence outside the structure tree turned
    into a pagination artifact."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        if "/StructTreeRoot" not in pdf.Root:
            return data
        reachable = reachable_elements(pdf)
        parent_tree = pdf.Root.StructTreeRoot.ParentTree
        nums = parent_tree.Nums
        by_key = {int(nums[i]): nums[i + 1] for i in range(0, len(nums), 2)}
        update, offsets = bytearray(), {}
        for page in pdf.pages:
            marks = by_key.get(int(page.obj.get("/StructParents", -1)), pikepdf.Array())
            orphans = {mcid for mcid, element in enumerate(marks)
                       if isinstance(element, pikepdf.Dictionary)
                       and element.objgen not in reachable}
            if not orphans:
                continue

            def artifact(match: re.Match, orphans: set[int] = orphans) -> bytes:
                return PAGINATION if int(match[1]) in orphans else match[0]

            stream = page.obj.Contents
            content = re.sub(rb"/[A-Za-z0-9]+\s*<<\s*/MCID (\d+)\s*>>\s*BDC", artifact,
                             stream.read_bytes())
            offsets[stream.objgen[0]] = len(data) + len(update)
            update += indirect(stream.objgen[0], flate_body(content))
            for mcid in orphans:
                marks[mcid] = None
        if not update:
            return data
        offsets[parent_tree.objgen[0]] = len(data) + len(update)
        update += indirect(parent_tree.objgen[0], parent_tree.unparse(resolved=True))
        start = int(data.rsplit(b"startxref", 1)[1].split()[0])
        identifier = b" ".join(part.unparse() for part in pdf.trailer.ID)
        trailer = b"/Root %s /Info %s /Prev %d /ID [ %s ]" % (
            pdf.Root.unparse(), pdf.trailer.Info.unparse(), start, identifier)
        number = max(obj.objgen[0] for obj in pdf.objects) + 1
        return data + bytes(update) + xref_stream(sorted(offsets.items()), number,
                                                  len(data) + len(update), trailer,
                                                  whole_file=False)
