import csv
import datetime as dt
import io
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import import_orders  # noqa: E402
from import_orders import read_orders, render_report, run  # noqa: E402

HEADER = "order_ref,placed_on,customer_id,sku,quantity,note\n"


def rows(text: str):
    return csv.DictReader(io.StringIO(HEADER + text))


def test_groups_rows_into_orders_and_adds_up_repeated_skus():
    orders, errors = read_orders(rows(
        "PH-1,2024-05-02,bean-and-leaf,ETH-YIRG-1KG,2,\n"
        "PH-1,2024-05-02,bean-and-leaf,eth-yirg-1kg,3,ring twice\n"
        "PH-2,2024-05-03,cafe-kaleido,BRA-CERR-5KG,1,\n"
    ))
    assert errors == []
    assert [(o.ref, o.lines) for o in orders] == [("PH-1", {"ETH-YIRG-1KG": 5}), ("PH-2", {"BRA-CERR-5KG": 1})]
    assert orders[0].notes == ["ring twice"]
    assert orders[0].placed_on == dt.date(2024, 5, 2)


def test_reports_every_bad_row_with_its_line_number():
    _, errors = read_orders(rows(
        "PH-1,2024-05-02,bean-and-leaf,ETH-YIRG,2,\n"
        "PH-1,02/05/2024,bean-and-leaf,ETH-YIRG-1KG,2,\n"
        "PH-1,2024-05-02,bean-and-leaf,ETH-YIRG-1KG,lots,\n"
        ",2024-05-02,bean-and-leaf,ETH-YIRG-1KG,1,\n"
        "PH-1,2024-05-02,bean-and-leaf,ETH-YIRG-1KG,999,\n"
    ))
    assert [str(e) for e in errors] == [
        "line 2: 'ETH-YIRG' is not a SKU like ETH-YIRG-1KG",
        "line 3: placed_on '02/05/2024' is not a date like 2024-05-02",
        "line 4: quantity 'lots' is not a whole number",
        "line 5: order_ref is empty",
        "line 6: quantity 999 is outside 1..200",
    ]


def test_one_order_belongs_to_one_customer():
    _, errors = read_orders(rows(
        "PH-7,2024-05-02,bean-and-leaf,ETH-YIRG-1KG,1,\n"
        "PH-7,2024-05-02,north-pier-kiosk,ETH-YIRG-1KG,1,\n"
    ))
    assert [str(e) for e in errors] == ["line 3: PH-7 belongs to bean-and-leaf, not north-pier-kiosk"]


def test_dry_run_lists_orders_and_sends_nothing():
    out = io.StringIO()
    code = run(io.StringIO(HEADER + "PH-9,2024-05-02,cafe-kaleido,KEN-NYER-500G,6,\n"), "test.csv", "http://unused", True, False, out)
    assert code == 0
    assert out.getvalue() == "PH-9: cafe-kaleido, 1 line(s), 6 bags\n"


def test_a_bad_row_stops_the_whole_import():
    out = io.StringIO()
    code = run(io.StringIO(HEADER + "PH-9,2024-05-02,cafe-kaleido,KEN-NYER-500G,0,\n"), "test.csv", "http://unused", False, False, out)
    assert code == 1
    assert "nothing was imported" in out.getvalue()


def test_report_escapes_what_it_shows():
    orders, _ = read_orders(rows("<b>PH-1</b>,2024-05-02,bean-and-leaf,ETH-YIRG-1KG,2,\n"))
    page = render_report(orders, {}, {"<b>PH-1</b>": "customer <unknown>"}, "orders.csv")
    assert "&lt;b&gt;PH-1&lt;/b&gt;" in page
    assert "customer &lt;unknown&gt;" in page
    assert import_orders.REPORTS.name == "reports"
