/** Builds the Express application from its parts; the server and the tests both start here. */
import * as path from 'node:path';
import express from 'express';
import type { Config } from './config';
import { errorHandler } from './errors';
import { requestLog, requireAdmin } from './middleware/requestLog';
import { inventoryRoutes } from './routes/inventory';
import { orderRoutes } from './routes/orders';
import { productRoutes } from './routes/products';
import { InventoryService } from './services/inventoryService';
import { OrderService } from './services/orderService';
import type { Store } from './store/memoryStore';

export interface AppDeps {
  config: Config;
  store: Store;
  log?: (line: string) => void;
  now?: () => Date;
}

export function createApp({ config, store, log = console.log, now }: AppDeps) {
  const inventory = new InventoryService(store, now);
  const orders = new OrderService(store, inventory, {
    maxBagsPerLine: config.maxBagsPerLine,
    pendingOrderTtlHours: config.pendingOrderTtlHours,
    ...(now ? { now } : {}),
  });
  const admin = requireAdmin(config.adminToken);

  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(log, config.logRequests));
  app.use(express.json({ limit: '100kb' }));
  app.use(express.static(path.join(__dirname, '..', 'public'), { maxAge: '1h' }));

  app.get('/health', (_req, res) => {
    res.json({ ok: true, products: store.products().length, openOrders: orders.list({ status: 'confirmed' }).length });
  });
  app.use('/products', productRoutes(store, admin));
  app.use('/orders', orderRoutes(orders, admin));
  app.use('/inventory', inventoryRoutes(store, inventory, admin));

  app.use((req, res) => {
    res.status(404).json({ error: { code: 'no_route', message: `no route for ${req.method} ${req.path}` } });
  });
  app.use(errorHandler(log));

  return { app, orders, inventory };
}
