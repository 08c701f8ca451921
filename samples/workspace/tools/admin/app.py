"""Packing-room admin: the reorder report, booking deliveries, and moving orders along.

Run it next to the API:

    STOCKROOM_URL=http://localhost:3000 STOCKROOM_ADMIN_TOKEN=... flask --app tools.admin.app run --port 5050
"""
from __future__ import annotations

import os
from collections import Counter

from flask import Flask, abort, flash, redirect, render_template, request, url_for

from .stockroom_client import StockroomClient, StockroomError

ORDER_STEPS = {"pending": "confirmed", "confirmed": "packed", "packed": "shipped"}


def create_app(client: StockroomClient | None = None) -> Flask:
    app = Flask(__name__)
    # Only signs the flash-message cookie of this local tool; read from the environment, random if unset.
    app.config["SECRET_KEY"] = os.environ.get("ADMIN_SESSION_KEY") or os.urandom(16)
    api = client or StockroomClient(
        os.environ.get("STOCKROOM_URL", "http://localhost:3000"),
        os.environ.get("STOCKROOM_ADMIN_TOKEN"),
    )

    @app.errorhandler(StockroomError)
    def api_error(err: StockroomError):
        status = 502 if err.status in (0, 500) else err.status
        return render_template("error.html", error=err), status

    @app.get("/")
    def index():
        low = api.low_stock()
        open_orders = api.orders(status="confirmed") + api.orders(status="packed")
        by_status = Counter(o["status"] for o in open_orders)
        return render_template("low_stock.html", low=low, open_orders=open_orders, by_status=by_status)

    @app.post("/restock/<sku>")
    def restock(sku: str):
        try:
            bags = int(request.form.get("bags", ""))
        except ValueError:
            flash(f"{sku}: the number of bags must be a whole number", "error")
            return redirect(url_for("index"))
        note = request.form.get("delivery_note", "").strip()
        if not note:
            flash(f"{sku}: write the delivery note number from the roastery's paperwork", "error")
            return redirect(url_for("index"))
        level = api.restock(sku, bags, note)
        flash(f"{sku}: booked {bags} bags, {level['available']} now available", "ok")
        return redirect(url_for("index"))

    @app.post("/orders/<order_id>/advance")
    def advance(order_id: str):
        current = request.form.get("status", "")
        target = ORDER_STEPS.get(current)
        if target is None:
            abort(400, f"orders that are {current!r} cannot be moved on from here")
        try:
            api.set_status(order_id, target)
        except StockroomError as err:
            if err.code != "insufficient_stock":
                raise
            flash(f"{order_id}: {err.message}", "error")
            return redirect(url_for("index"))
        flash(f"{order_id} is now {target}", "ok")
        return redirect(url_for("index"))

    @app.post("/orders/<order_id>/cancel")
    def cancel(order_id: str):
        reason = request.form.get("reason", "").strip() or "cancelled from the admin tool"
        api.set_status(order_id, "cancelled", reason)
        flash(f"{order_id} cancelled", "ok")
        return redirect(url_for("index"))

    return app
