/** Stock levels, the reorder report and deliveries from the roastery. All admin-only. */
import { Router, type RequestHandler } from 'express';
import { restockBody } from '../schemas';
import type { InventoryService } from '../services/inventoryService';
import type { Store } from '../store/memoryStore';
import { body, handle } from './validated';

export function inventoryRoutes(store: Store, inventory: InventoryService, admin: RequestHandler): Router {
  const router = Router();
  router.use(admin);

  router.get(
    '/',
    handle((_req, res) => {
      const levels = store.stockLevels().map((l) => ({ ...l, available: l.onHand - l.reserved }));
      res.json({ stock: levels.sort((a, b) => a.sku.localeCompare(b.sku)) });
    }),
  );

  router.get(
    '/low',
    handle((_req, res) => {
      res.json({ items: inventory.lowStock() });
    }),
  );

  router.post(
    '/:sku/restock',
    handle((req, res) => {
      const { bags, deliveryNote } = body(restockBody, req);
      const level = inventory.restock(req.params.sku!, bags, deliveryNote);
      res.json({ ...level, available: level.onHand - level.reserved });
    }),
  );

  router.get(
    '/:sku/restocks',
    handle((req, res) => {
      res.json({ restocks: inventory.restocks(req.params.sku!) });
    }),
  );

  return router;
}
