"""A small client for the stockroom HTTP API, used by the admin app and the import script.

Only the standard library: the tools run on the packing-room laptop, where installing packages is a chore.
"""
from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from typing import Any


class StockroomError(Exception):
    """The API answered with an error; carries its status and machine-readable code."""

    def __init__(self, status: int, code: str, message: str, details: Any = None) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message
        self.details = details


@dataclass
class LowStockItem:
    sku: str
    name: str
    available: int
    reorder_point: int
    suggested_order: int


class StockroomClient:
    def __init__(self, base_url: str, admin_token: str | None = None, timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.admin_token = admin_token
        self.timeout = timeout

    # -- plumbing -------------------------------------------------------------------------------------

    def _request(self, method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> Any:
        url = self.base_url + path
        if query:
            url += "?" + urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
        data = None if body is None else json.dumps(body).encode("utf-8")
        req = urllib.request.Request(url, data=data, method=method)
        req.add_header("accept", "application/json")
        if data is not None:
            req.add_header("content-type", "application/json")
        if self.admin_token:
            req.add_header("x-admin-token", self.admin_token)
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                payload = res.read()
                return json.loads(payload) if payload else None
        except urllib.error.HTTPError as err:
            raise self._error_from(err) from None
        except urllib.error.URLError as err:
            raise StockroomError(0, "unreachable", f"cannot reach {self.base_url}: {err.reason}") from None

    @staticmethod
    def _error_from(err: urllib.error.HTTPError) -> StockroomError:
        try:
            body = json.loads(err.read() or b"{}").get("error", {})
        except json.JSONDecodeError:
            body = {}
        return StockroomError(err.code, body.get("code", "http_error"), body.get("message", err.reason), body.get("details"))

    # -- catalogue and stock --------------------------------------------------------------------------

    def products(self, include_inactive: bool = False) -> list[dict[str, Any]]:
        return self._request("GET", "/products", query={"all": "true" if include_inactive else None})["products"]

    def low_stock(self) -> list[LowStockItem]:
        items = self._request("GET", "/inventory/low")["items"]
        return [
            LowStockItem(i["sku"], i["name"], i["available"], i["reorderPoint"], i["suggestedOrder"])
            for i in items
        ]

    def restock(self, sku: str, bags: int, delivery_note: str) -> dict[str, Any]:
        path = f"/inventory/{urllib.parse.quote(sku)}/restock"
        return self._request("POST", path, {"bags": bags, "deliveryNote": delivery_note})

    # -- orders ---------------------------------------------------------------------------------------

    def orders(self, status: str | None = None, customer: str | None = None) -> list[dict[str, Any]]:
        return self._request("GET", "/orders", query={"status": status, "customer": customer})["orders"]

    def place_order(self, customer_id: str, lines: list[dict[str, Any]], note: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"customerId": customer_id, "lines": lines}
        if note:
            body["note"] = note
        return self._request("POST", "/orders", body)

    def set_status(self, order_id: str, status: str, reason: str | None = None) -> dict[str, Any]:
        body = {"status": status} if reason is None else {"status": status, "reason": reason}
        return self._request("POST", f"/orders/{urllib.parse.quote(order_id)}/status", body)
