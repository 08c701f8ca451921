/**
 * The integration tests' workspace, generated: two small projects (TypeScript + Express, Python + Flask) with
 * planted secrets, dependencies, a lock file, a minified bundle, a binary and data, and a .code-workspace that
 * opens both. EXPECTED says what Tailor must make of each folder; the suite and run.mjs share this module.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Planted secret values: they must never appear in a report. */
export const PLANTED_SECRETS = {
  awsKeyId: 'AKIAQ7TRLZ4MNB2XWV6P',
  sessionSecret: 's3ss10n-Zq8vK2pL9xR4tW7yB1nM',
  serviceToken: 'b7c1e0f4a9d2c8e6f3a1b5d7c9e2f4a6',
} as const;

export interface FolderExpectation {
  name: string;
  filesIncluded: number;
  filesExcluded: number;
  secretsSkipped: number;
  languages: string[];
  frameworks: string[];
  /** Paths that must be in the corpus. */
  included: string[];
  /** Paths left out, with a word the report's reason must contain. */
  excluded: Record<string, string>;
}

export const EXPECTED: Record<'alpha' | 'beta', FolderExpectation> = {
  alpha: {
    name: 'alpha',
    filesIncluded: 8,
    filesExcluded: 5,
    secretsSkipped: 2,
    languages: ['JSON', 'Markdown', 'TypeScript'],
    frameworks: ['Express', 'TypeScript'],
    included: ['package.json', 'README.md', 'src/server.ts', 'src/routes.ts', 'src/store.ts', 'src/validate.ts', 'src/invoice.ts', 'src/legacy.ts'],
    excluded: {
      '.env': 'environment file',
      'src/config.ts': 'on line 5',
      'node_modules/': 'npm packages',
      'public/app.min.js': 'minified',
      'package-lock.json': 'lock file',
    },
  },
  beta: {
    name: 'beta',
    filesIncluded: 8,
    filesExcluded: 4,
    secretsSkipped: 1,
    languages: ['Pip Requirements', 'Python'],
    frameworks: ['Flask', 'Requests'],
    included: ['requirements.txt', 'app/__init__.py', 'app/views.py', 'app/models.py', 'app/services.py', 'app/forecast.py', 'app/cli.py', 'tests/test_models.py'],
    excluded: {
      'config/credentials.json': 'credentials',
      'static/logo.png': '.png',
      'app/__pycache__/': 'Python bytecode',
      'data/cities.csv': 'data',
    },
  },
};

const ALPHA: Record<string, string | Buffer> = {
  'package.json': JSON.stringify(
    { name: 'alpha-shop', version: '1.2.0', private: true, main: 'src/server.ts', dependencies: { express: '4.19.2' }, devDependencies: { typescript: '5.4.5' } },
    null,
    2,
  ),
  'package-lock.json': JSON.stringify({ name: 'alpha-shop', lockfileVersion: 3, requires: true, packages: {} }, null, 2),
  'README.md': `# Alpha shop

A tiny order service used to check that Tailor mines a TypeScript project. Orders are validated on the way
in, priced in whole cents to avoid rounding surprises, and invoiced with the VAT rate of each line's category.

## Running

Install the dependencies with \`npm install\`, then start the server with \`npx ts-node src/server.ts\`.
The service listens on port 3000 and keeps its orders in memory, so a restart forgets everything.

## Endpoints

- \`GET /orders\` lists the orders, newest first.
- \`POST /orders\` creates an order from a JSON body with \`customer\` and \`items\`.
- \`DELETE /orders/:id\` cancels an order that has not shipped yet.
`,
  '.env': `SESSION_SECRET=${PLANTED_SECRETS.sessionSecret}\nPORT=3000\n`,
  'src/config.ts': `// Deployment settings. The key below is a fake one planted for Tailor's tests.
export const config = {
  region: 'eu-west-1',
  bucket: 'alpha-shop-invoices',
  accessKeyId: '${PLANTED_SECRETS.awsKeyId}',
  retries: 3,
};
`,
  'src/server.ts': `import express, { type NextFunction, type Request, type Response } from 'express';
import { ordersRouter } from './routes';
import { OrderStore } from './store';

const port = Number(process.env.PORT ?? 3000);

export function createApp(store: OrderStore = new OrderStore()) {
  const app = express();
  app.use(express.json({ limit: '64kb' }));
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const started = process.hrtime.bigint();
    req.on('end', () => {
      const ms = Number(process.hrtime.bigint() - started) / 1e6;
      console.log(\`\${req.method} \${req.originalUrl} \${ms.toFixed(1)} ms\`);
    });
    next();
  });
  app.get('/health', (_req, res) => res.json({ ok: true, orders: store.size }));
  app.use('/orders', ordersRouter(store));
  app.use((error: Error, _req: Request, res: Response, _next: NextFunction) => {
    console.error(error);
    res.status(500).json({ error: 'Something went wrong on our side; the order was not changed.' });
  });
  return app;
}

if (require.main === module) {
  createApp().listen(port, () => console.log(\`alpha-shop listening on http://localhost:\${port}\`));
}
`,
  'src/routes.ts': `import { Router } from 'express';
import type { OrderStore } from './store';
import { parseNewOrder, ValidationError } from './validate';

/** The /orders resource: list, create and cancel. */
export function ordersRouter(store: OrderStore): Router {
  const router = Router();

  router.get('/', (req, res) => {
    const limit = Math.min(100, Math.max(1, Number(req.query.limit ?? 20)));
    res.json(store.list().slice(0, limit));
  });

  router.post('/', (req, res) => {
    try {
      const order = store.create(parseNewOrder(req.body));
      res.status(201).location(\`/orders/\${order.id}\`).json(order);
    } catch (error) {
      if (error instanceof ValidationError) return res.status(400).json({ error: error.message, field: error.field });
      throw error;
    }
  });

  router.delete('/:id', (req, res) => {
    const outcome = store.cancel(req.params.id);
    if (outcome === 'missing') return res.status(404).json({ error: \`No order \${req.params.id}.\` });
    if (outcome === 'shipped') return res.status(409).json({ error: 'This order has shipped and can no longer be cancelled.' });
    res.status(204).end();
  });

  return router;
}
`,
  'src/store.ts': `import { randomUUID } from 'node:crypto';

export interface OrderLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

export interface Order {
  id: string;
  customer: string;
  lines: OrderLine[];
  totalCents: number;
  createdAt: Date;
  status: 'open' | 'shipped' | 'cancelled';
}

/** Orders in memory, newest first when listed. */
export class OrderStore {
  private readonly orders = new Map<string, Order>();

  get size(): number {
    return this.orders.size;
  }

  create(input: { customer: string; lines: OrderLine[] }): Order {
    const totalCents = input.lines.reduce((sum, line) => sum + line.quantity * line.unitPriceCents, 0);
    const order: Order = { id: randomUUID(), customer: input.customer, lines: input.lines, totalCents, createdAt: new Date(), status: 'open' };
    this.orders.set(order.id, order);
    return order;
  }

  list(): Order[] {
    return [...this.orders.values()].sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime());
  }

  cancel(id: string): 'cancelled' | 'missing' | 'shipped' {
    const order = this.orders.get(id);
    if (!order) return 'missing';
    if (order.status === 'shipped') return 'shipped';
    order.status = 'cancelled';
    return 'cancelled';
  }

  markShipped(id: string): boolean {
    const order = this.orders.get(id);
    if (!order || order.status !== 'open') return false;
    order.status = 'shipped';
    return true;
  }
}
`,
  'src/validate.ts': `import type { OrderLine } from './store';

export class ValidationError extends Error {
  constructor(
    message: string,
    readonly field: string,
  ) {
    super(message);
  }
}

const SKU = /^[A-Z]{3}-\\d{4}$/;

function requireString(value: unknown, field: string, maxLength: number): string {
  if (typeof value !== 'string' || value.trim() === '') throw new ValidationError(\`\${field} must be a non-empty string\`, field);
  if (value.length > maxLength) throw new ValidationError(\`\${field} is longer than \${maxLength} characters\`, field);
  return value.trim();
}

function parseLine(raw: unknown, index: number): OrderLine {
  const field = \`items[\${index}]\`;
  if (typeof raw !== 'object' || raw === null) throw new ValidationError(\`\${field} must be an object\`, field);
  const { sku, quantity, unitPriceCents } = raw as Record<string, unknown>;
  const code = requireString(sku, \`\${field}.sku\`, 8);
  if (!SKU.test(code)) throw new ValidationError(\`\${field}.sku looks like ABC-1234\`, \`\${field}.sku\`);
  if (!Number.isInteger(quantity) || (quantity as number) < 1) throw new ValidationError(\`\${field}.quantity must be a whole number above zero\`, \`\${field}.quantity\`);
  if (!Number.isInteger(unitPriceCents) || (unitPriceCents as number) < 0) throw new ValidationError(\`\${field}.unitPriceCents must be a whole number of cents\`, \`\${field}.unitPriceCents\`);
  return { sku: code, quantity: quantity as number, unitPriceCents: unitPriceCents as number };
}

export function parseNewOrder(body: unknown): { customer: string; lines: OrderLine[] } {
  if (typeof body !== 'object' || body === null) throw new ValidationError('the body must be a JSON object', 'body');
  const { customer, items } = body as Record<string, unknown>;
  if (!Array.isArray(items) || items.length === 0) throw new ValidationError('items must list at least one line', 'items');
  return { customer: requireString(customer, 'customer', 120), lines: items.map(parseLine) };
}
`,
  'src/invoice.ts': `import type { Order } from './store';

export interface InvoiceLine {
  description: string;
  quantity: number;
  netCents: number;
  vatCents: number;
}

export interface Invoice {
  number: string;
  orderId: string;
  issuedOn: string;
  lines: InvoiceLine[];
  netCents: number;
  vatCents: number;
  grossCents: number;
}

/** VAT rates by the first letter of the SKU's category code; books and food are reduced. */
const VAT_BY_CATEGORY: Record<string, number> = { B: 0.06, F: 0.09, default: 0.21 };

function vatRate(sku: string): number {
  return VAT_BY_CATEGORY[sku.charAt(0)] ?? VAT_BY_CATEGORY.default!;
}

let sequence = 0;

/** Invoice numbers run per year: 2024-00017. */
export function nextInvoiceNumber(today = new Date()): string {
  sequence += 1;
  return \`\${today.getFullYear()}-\${String(sequence).padStart(5, '0')}\`;
}

export function invoiceFor(order: Order, today = new Date()): Invoice {
  if (order.status === 'cancelled') throw new Error(\`Order \${order.id} was cancelled; there is nothing to invoice.\`);
  const lines = order.lines.map((line) => {
    const netCents = line.quantity * line.unitPriceCents;
    const vatCents = Math.round(netCents * vatRate(line.sku));
    return { description: line.sku, quantity: line.quantity, netCents, vatCents };
  });
  const netCents = lines.reduce((sum, l) => sum + l.netCents, 0);
  const vatCents = lines.reduce((sum, l) => sum + l.vatCents, 0);
  return {
    number: nextInvoiceNumber(today),
    orderId: order.id,
    issuedOn: today.toISOString().slice(0, 10),
    lines,
    netCents,
    vatCents,
    grossCents: netCents + vatCents,
  };
}

/** Plain-text rendering for the e-mail body; the PDF is made elsewhere. */
export function renderInvoiceText(invoice: Invoice): string {
  const rows = invoice.lines.map((l) => \`\${l.description.padEnd(10)} x\${String(l.quantity).padStart(3)}  \${(l.netCents / 100).toFixed(2).padStart(9)}\`);
  return [
    \`Invoice \${invoice.number} (order \${invoice.orderId})\`,
    \`Issued \${invoice.issuedOn}\`,
    '',
    ...rows,
    '',
    \`Net   \${(invoice.netCents / 100).toFixed(2)}\`,
    \`VAT   \${(invoice.vatCents / 100).toFixed(2)}\`,
    \`Total \${(invoice.grossCents / 100).toFixed(2)}\`,
  ].join('\\n');
}
`,
  'src/legacy.ts': `/**
 * Old price formatting, kept while the invoice templates still call it.
 * Prefer Intl.NumberFormat in new code.
 */
export function formatCents(cents: number, currency = 'EUR'): string {
  const negative = cents < 0;
  const whole = Math.floor(Math.abs(cents) / 100);
  const rest = String(Math.abs(cents) % 100).padStart(2, '0');
  const grouped = String(whole).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ' ');
  const symbol = currency === 'EUR' ? '€' : currency === 'GBP' ? '£' : currency + ' ';
  return \`\${negative ? '-' : ''}\${symbol}\${grouped},\${rest}\`;
}

export function parseCents(text: string): number | undefined {
  const match = /^(-)?\\D*([\\d ]+),(\\d{2})$/.exec(text.trim());
  if (!match) return undefined;
  const value = Number(match[2]!.replace(/ /g, '')) * 100 + Number(match[3]);
  return match[1] ? -value : value;
}
`,
  'node_modules/express/index.js': `'use strict';\nmodule.exports = require('./lib/express');\n`,
  'public/app.min.js': `!function(){"use strict";var e=document.querySelector("#orders");fetch("/orders").then(function(r){return r.json()}).then(function(o){e.textContent=o.length+" orders"})}();\n`,
};

const BETA: Record<string, string | Buffer> = {
  'requirements.txt': 'flask==3.0.3\nrequests==2.32.3\n',
  'config/credentials.json': JSON.stringify({ service: 'geo-lookup', token: PLANTED_SECRETS.serviceToken }, null, 2),
  'static/logo.png': Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 0, 0, 0, 1, 0, 0, 0, 1, 8, 6, 0, 0, 0]),
  'app/__pycache__/views.cpython-312.pyc': Buffer.from([0xcb, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0, 0x63, 0, 0, 0]),
  'data/cities.csv': 'name,country,population\n' + Array.from({ length: 80 }, (_, i) => `City${i},C${i % 7},${(i * 7919) % 100000}`).join('\n') + '\n',
  'app/__init__.py': `"""Weather stations: a small Flask application that records readings and answers questions about them."""
from flask import Flask

from .models import StationRegistry


def create_app(registry: StationRegistry | None = None) -> Flask:
    app = Flask(__name__)
    app.config["REGISTRY"] = registry or StationRegistry()

    from .views import bp

    app.register_blueprint(bp, url_prefix="/api")

    @app.errorhandler(404)
    def not_found(_error):
        return {"error": "There is no such station or endpoint."}, 404

    return app
`,
  'app/models.py': `from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from statistics import mean


@dataclass
class Reading:
    taken_at: datetime
    celsius: float
    humidity: float


@dataclass
class Station:
    code: str
    name: str
    latitude: float
    longitude: float
    readings: list[Reading] = field(default_factory=list)

    def record(self, celsius: float, humidity: float, when: datetime | None = None) -> Reading:
        if not -90 <= celsius <= 60:
            raise ValueError(f"{celsius} C is not a plausible air temperature")
        if not 0 <= humidity <= 100:
            raise ValueError("humidity is a percentage between 0 and 100")
        reading = Reading(when or datetime.now(timezone.utc), celsius, humidity)
        self.readings.append(reading)
        return reading

    def average(self, last: int = 24) -> float | None:
        recent = self.readings[-last:]
        return round(mean(r.celsius for r in recent), 2) if recent else None


class StationRegistry:
    def __init__(self) -> None:
        self._stations: dict[str, Station] = {}

    def add(self, station: Station) -> None:
        if station.code in self._stations:
            raise KeyError(f"station {station.code} already exists")
        self._stations[station.code] = station

    def get(self, code: str) -> Station | None:
        return self._stations.get(code.upper())

    def all(self) -> list[Station]:
        return sorted(self._stations.values(), key=lambda s: s.code)
`,
  'app/views.py': `from flask import Blueprint, current_app, jsonify, request

from .models import Station
from .services import heat_index, nearest

bp = Blueprint("api", __name__)


def registry():
    return current_app.config["REGISTRY"]


@bp.get("/stations")
def list_stations():
    return jsonify([{"code": s.code, "name": s.name, "average": s.average()} for s in registry().all()])


@bp.post("/stations")
def add_station():
    body = request.get_json(force=True)
    station = Station(body["code"].upper(), body["name"], float(body["lat"]), float(body["lon"]))
    registry().add(station)
    return {"code": station.code}, 201


@bp.post("/stations/<code>/readings")
def add_reading(code: str):
    station = registry().get(code)
    if station is None:
        return {"error": f"no station {code}"}, 404
    body = request.get_json(force=True)
    reading = station.record(float(body["celsius"]), float(body["humidity"]))
    return {"feels_like": heat_index(reading.celsius, reading.humidity)}, 201


@bp.get("/nearest")
def nearest_station():
    lat, lon = float(request.args["lat"]), float(request.args["lon"])
    found = nearest(registry().all(), lat, lon)
    return ({"code": found.code, "name": found.name} if found else {"error": "no stations yet"}), (200 if found else 404)
`,
  'app/services.py': `import math

EARTH_RADIUS_KM = 6371.0


def haversine_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance between two points given in degrees."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(a))


def nearest(stations, lat: float, lon: float):
    best, best_km = None, math.inf
    for station in stations:
        km = haversine_km(lat, lon, station.latitude, station.longitude)
        if km < best_km:
            best, best_km = station, km
    return best


def heat_index(celsius: float, humidity: float) -> float:
    """Rothfusz regression, valid above about 27 C; below that the air feels as warm as it is."""
    if celsius < 27:
        return celsius
    f = celsius * 9 / 5 + 32
    hi = (-42.379 + 2.04901523 * f + 10.14333127 * humidity - 0.22475541 * f * humidity
          - 6.83783e-3 * f * f - 5.481717e-2 * humidity * humidity + 1.22874e-3 * f * f * humidity
          + 8.5282e-4 * f * humidity * humidity - 1.99e-6 * f * f * humidity * humidity)
    return round((hi - 32) * 5 / 9, 1)
`,
  'app/forecast.py': `\"\"\"Naive forecasts from a station's history: enough for the dashboard, not for a pilot.\"\"\"
from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Iterable, Sequence


@dataclass(frozen=True)
class Forecast:
    hours_ahead: int
    celsius: float
    confidence: str


def moving_average(values: Sequence[float], window: int) -> list[float]:
    if window < 1:
        raise ValueError("window must be at least one reading")
    out: list[float] = []
    recent: deque[float] = deque(maxlen=window)
    total = 0.0
    for value in values:
        if len(recent) == window:
            total -= recent[0]
        recent.append(value)
        total += value
        out.append(total / len(recent))
    return out


def trend_per_hour(values: Sequence[float]) -> float:
    \"\"\"Least-squares slope through the readings, assuming one reading per hour.\"\"\"
    n = len(values)
    if n < 2:
        return 0.0
    mean_x = (n - 1) / 2
    mean_y = sum(values) / n
    num = sum((i - mean_x) * (y - mean_y) for i, y in enumerate(values))
    den = sum((i - mean_x) ** 2 for i in range(n))
    return num / den


def forecast(history: Iterable[float], hours: Sequence[int] = (1, 3, 6)) -> list[Forecast]:
    values = list(history)
    if not values:
        return []
    smoothed = moving_average(values, window=min(6, len(values)))
    slope = trend_per_hour(smoothed[-12:])
    last = smoothed[-1]
    result = []
    for h in hours:
        confidence = "high" if h <= 1 else "medium" if h <= 3 else "low"
        result.append(Forecast(h, round(last + slope * h, 1), confidence))
    return result
`,
  'app/cli.py': `"""Command line: import readings from a CSV export of the old logger."""
import argparse
import csv
import sys
from datetime import datetime

from .models import Station, StationRegistry


def load(path: str, registry: StationRegistry) -> int:
    count = 0
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            station = registry.get(row["station"])
            if station is None:
                station = Station(row["station"].upper(), row.get("name", row["station"]), 0.0, 0.0)
                registry.add(station)
            station.record(float(row["celsius"]), float(row["humidity"]), datetime.fromisoformat(row["time"]))
            count += 1
    return count


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="stations", description=__doc__)
    parser.add_argument("csv", help="export file with station, time, celsius and humidity columns")
    args = parser.parse_args(argv)
    registry = StationRegistry()
    try:
        n = load(args.csv, registry)
    except (OSError, KeyError, ValueError) as error:
        print(f"stations: cannot import {args.csv}: {error}", file=sys.stderr)
        return 1
    print(f"imported {n} readings for {len(registry.all())} stations")
    return 0


if __name__ == "__main__":
    sys.exit(main())
`,
  'tests/test_models.py': `import pytest

from app.models import Station, StationRegistry
from app.services import haversine_km, heat_index


def test_record_rejects_implausible_temperatures():
    station = Station("OSL", "Oslo", 59.91, 10.75)
    with pytest.raises(ValueError):
        station.record(75.0, 40.0)


def test_average_of_recent_readings():
    station = Station("BER", "Berlin", 52.52, 13.40)
    for celsius in (10.0, 12.0, 14.0):
        station.record(celsius, 50.0)
    assert station.average(last=2) == 13.0


def test_registry_lookup_is_case_insensitive():
    registry = StationRegistry()
    registry.add(Station("LIS", "Lisbon", 38.72, -9.14))
    assert registry.get("lis").name == "Lisbon"


def test_distance_between_paris_and_london():
    assert 340 < haversine_km(48.8566, 2.3522, 51.5074, -0.1278) < 350


def test_heat_index_is_identity_when_cool():
    assert heat_index(20.0, 90.0) == 20.0
`,
};

function writeTree(root: string, files: Record<string, string | Buffer>): void {
  for (const [rel, content] of Object.entries(files)) {
    const abs = path.join(root, ...rel.split('/'));
    fs.mkdirSync(path.dirname(abs), { recursive: true });
    fs.writeFileSync(abs, content);
  }
}

export interface FixtureWorkspace {
  /** The .code-workspace file that opens both folders. */
  workspaceFile: string;
  alpha: string;
  beta: string;
}

/**
 * Writes the fixture into `dir` (emptied first) and a multi-root .code-workspace with alpha and beta, plus
 * any extra folders (e.g. samples/workspace) given as absolute paths.
 */
export function writeFixtureWorkspace(dir: string, extraFolders: string[] = []): FixtureWorkspace {
  fs.rmSync(dir, { recursive: true, force: true });
  const alpha = path.join(dir, 'alpha');
  const beta = path.join(dir, 'beta');
  writeTree(alpha, ALPHA);
  writeTree(beta, BETA);
  const workspaceFile = path.join(dir, 'tailor-fixture.code-workspace');
  const folders = [{ path: 'alpha' }, { path: 'beta' }, ...extraFolders.map((p) => ({ path: p }))];
  fs.writeFileSync(workspaceFile, JSON.stringify({ folders, settings: {} }, null, 2));
  return { workspaceFile, alpha, beta };
}
