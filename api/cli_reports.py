"""``regiomatch report``: the printable fit report of one zone, written to an HTML or PDF file.

Examples::

    regiomatch report samenwerkingsverband W13 -o W13.pdf
    regiomatch report samenwerkingsverband ISOM -o ISOM.html --against eerstelijnszone referentieregio
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from api.cli_common import add_command, workspace
from geo.errors import InvalidInput
from geo.usecases.reports import default_against
from maps.pdf import RENDERERS, html_to_pdf
from maps.report import report_html

SUFFIXES = (".html", ".htm", ".pdf")


def cmd_report(args: argparse.Namespace) -> None:
    out = Path(args.output)
    if out.suffix.lower() not in SUFFIXES:
        raise InvalidInput(f"output file must end in .html or .pdf, got {out.name!r}")
    # The same document as the report page and its PDF (maps.report.report_html).
    html, _ = report_html(workspace(args), args.layer, args.code, args.against,
                          for_print=out.suffix.lower() == ".pdf")
    if out.suffix.lower() == ".pdf":
        out.write_bytes(html_to_pdf(html, args.renderer))
    else:
        out.write_text(html, encoding="utf-8")
    print(f"{args.layer} {args.code}: rapport geschreven naar {out}", file=sys.stderr)


def register(sub: argparse._SubParsersAction) -> None:
    p = add_command(sub, "report", help="printable fit report of one zone (HTML or PDF)")
    p.add_argument("layer", help="layer id or scenario:<id>, e.g. samenwerkingsverband")
    p.add_argument("code", help="zone code, e.g. W13")
    p.add_argument("-o", "--output", required=True, help="file to write: .html or .pdf")
    p.add_argument("--against", nargs="+", default=None, metavar="LAYER",
                   help=f"comparison layers (default: {' '.join(default_against())})")
    p.add_argument("--renderer", choices=RENDERERS, default=None,
                   help="PDF renderer (default: weasyprint, the one the web uses)")
    p.set_defaults(func=cmd_report)

