#!/usr/bin/env python3
"""Import phone and e-mail orders from the sales team's spreadsheet export into the stockroom.

The export is a CSV with one row per order line:

    order_ref,placed_on,customer_id,sku,quantity,note
    PH-1042,2024-05-02,bean-and-leaf,ETH-YIRG-1KG,4,ring the bell twice

Rows with the same order_ref form one order. Every order is checked before anything is sent, so a bad row
stops the import instead of leaving half of it in the system. Usage:

    python tools/import_orders.py data/orders.csv --dry-run
    python tools/import_orders.py data/orders.csv --url http://localhost:3000 --report
"""
from __future__ import annotations

import argparse
import csv
import datetime as dt
import html
import os
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from string import Template
from typing import Iterable, TextIO

SKU = re.compile(r"^[A-Z]{3}-[A-Z0-9]{2,8}-(250G|500G|1KG|5KG)$")
COLUMNS = ("order_ref", "placed_on", "customer_id", "sku", "quantity", "note")
REPORTS = Path(__file__).parent / "reports"


@dataclass
class ImportedOrder:
    ref: str
    customer_id: str
    placed_on: dt.date
    lines: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def api_lines(self) -> list[dict[str, object]]:
        return [{"sku": sku, "quantity": qty} for sku, qty in sorted(self.lines.items())]


@dataclass
class RowError:
    line: int
    message: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.message}"


def read_orders(rows: Iterable[dict[str, str]], max_bags: int = 200) -> tuple[list[ImportedOrder], list[RowError]]:
    """Groups CSV rows into orders; returns the orders and every problem found (line numbers count the header)."""
    orders: dict[str, ImportedOrder] = {}
    errors: list[RowError] = []
    for line, row in enumerate(rows, start=2):
        ref = (row.get("order_ref") or "").strip()
        customer = (row.get("customer_id") or "").strip()
        sku = (row.get("sku") or "").strip().upper()
        if not ref:
            errors.append(RowError(line, "order_ref is empty"))
            continue
        try:
            placed_on = dt.date.fromisoformat((row.get("placed_on") or "").strip())
        except ValueError:
            errors.append(RowError(line, f"placed_on {row.get('placed_on')!r} is not a date like 2024-05-02"))
            continue
        if not SKU.match(sku):
            errors.append(RowError(line, f"{sku!r} is not a SKU like ETH-YIRG-1KG"))
            continue
        try:
            quantity = int((row.get("quantity") or "").strip())
        except ValueError:
            errors.append(RowError(line, f"quantity {row.get('quantity')!r} is not a whole number"))
            continue
        if not 1 <= quantity <= max_bags:
            errors.append(RowError(line, f"quantity {quantity} is outside 1..{max_bags}"))
            continue

        order = orders.setdefault(ref, ImportedOrder(ref, customer, placed_on))
        if order.customer_id != customer:
            errors.append(RowError(line, f"{ref} belongs to {order.customer_id}, not {customer}"))
            continue
        order.lines[sku] = order.lines.get(sku, 0) + quantity
        note = (row.get("note") or "").strip()
        if note and note not in order.notes:
            order.notes.append(note)
    return list(orders.values()), errors


def check_header(fieldnames: list[str] | None) -> None:
    missing = [c for c in COLUMNS if c not in (fieldnames or [])]
    if missing:
        raise SystemExit(f"the CSV has no column {', '.join(missing)}; expected {','.join(COLUMNS)}")


def render_report(orders: list[ImportedOrder], placed: dict[str, str], failed: dict[str, str], source: str) -> str:
    template = Template((REPORTS / "report_template.html").read_text(encoding="utf-8"))
    rows = []
    for order in orders:
        outcome = placed.get(order.ref) or failed.get(order.ref, "not sent (dry run)")
        css = "ok" if order.ref in placed else "failed" if order.ref in failed else "dry"
        bags = sum(order.lines.values())
        rows.append(
            f'<tr class="{css}"><td>{html.escape(order.ref)}</td><td>{html.escape(order.customer_id)}</td>'
            f"<td>{order.placed_on.isoformat()}</td><td class=\"num\">{bags}</td><td>{html.escape(outcome)}</td></tr>"
        )
    return template.substitute(
        source=html.escape(source),
        generated=dt.datetime.now().strftime("%Y-%m-%d %H:%M"),
        placed=len(placed),
        failed=len(failed),
        rows="\n".join(rows),
    )


def run(csv_file: TextIO, source: str, url: str, dry_run: bool, report: bool, out: TextIO) -> int:
    reader = csv.DictReader(csv_file)
    check_header(reader.fieldnames)
    orders, errors = read_orders(reader)
    if errors:
        for e in errors:
            print(f"{source}: {e}", file=out)
        print(f"{len(errors)} problem(s); nothing was imported. Fix the rows above and run again.", file=out)
        return 1

    placed: dict[str, str] = {}
    failed: dict[str, str] = {}
    if dry_run:
        for o in orders:
            print(f"{o.ref}: {o.customer_id}, {len(o.lines)} line(s), {sum(o.lines.values())} bags", file=out)
    else:
        from admin.stockroom_client import StockroomClient, StockroomError

        client = StockroomClient(url, os.environ.get("STOCKROOM_ADMIN_TOKEN"))
        for o in orders:
            note = "; ".join([f"imported from {o.ref}", *o.notes])
            try:
                placed[o.ref] = client.place_order(o.customer_id, o.api_lines(), note)["id"]
            except StockroomError as err:
                failed[o.ref] = err.message
        print(f"placed {len(placed)} order(s), {len(failed)} failed", file=out)

    if report:
        REPORTS.mkdir(exist_ok=True)
        path = REPORTS / f"import-{dt.date.today().isoformat()}.html"
        path.write_text(render_report(orders, placed, failed, source), encoding="utf-8")
        print(f"report: {path}", file=out)
    return 1 if failed else 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("csv", type=Path, help="export from the sales spreadsheet")
    parser.add_argument("--url", default=os.environ.get("STOCKROOM_URL", "http://localhost:3000"))
    parser.add_argument("--dry-run", action="store_true", help="check and list the orders, send nothing")
    parser.add_argument("--report", action="store_true", help="write an HTML report into tools/reports/")
    args = parser.parse_args(argv)
    with args.csv.open(newline="", encoding="utf-8-sig") as f:
        return run(f, str(args.csv), args.url, args.dry_run, args.report, sys.stdout)


if __name__ == "__main__":
    sys.exit(main())
