/** Orders: cafés place and read them; the packing team moves them along. */
import { Router, type RequestHandler } from 'express';
import { ValidationError } from '../errors';
import { createOrderBody, statusChangeBody } from '../schemas';
import type { OrderService } from '../services/orderService';
import type { OrderStatus } from '../types';
import { formatEur } from '../util/money';
import { body, handle, queryParam } from './validated';

const STATUSES: readonly OrderStatus[] = ['pending', 'confirmed', 'packed', 'shipped', 'cancelled'];

export function orderRoutes(orders: OrderService, admin: RequestHandler): Router {
  const router = Router();

  router.post(
    '/',
    handle((req, res) => {
      const order = orders.create(body(createOrderBody, req));
      res.status(201).location(`/orders/${order.id}`).json(order);
    }),
  );

  router.get(
    '/',
    handle((req, res) => {
      const status = queryParam(req, 'status');
      if (status !== undefined && !STATUSES.includes(status as OrderStatus)) {
        throw new ValidationError([{ path: 'query.status', message: `must be one of ${STATUSES.join(', ')}` }]);
      }
      const since = queryParam(req, 'since');
      if (since !== undefined && Number.isNaN(Date.parse(since))) {
        throw new ValidationError([{ path: 'query.since', message: 'must be a date like 2024-05-01' }]);
      }
      const customerId = queryParam(req, 'customer');
      res.json({
        orders: orders.list({
          ...(customerId !== undefined ? { customerId } : {}),
          ...(status !== undefined ? { status: status as OrderStatus } : {}),
          ...(since !== undefined ? { since: new Date(since).toISOString() } : {}),
        }),
      });
    }),
  );

  router.get(
    '/:id',
    handle((req, res) => {
      res.json(orders.get(req.params.id!));
    }),
  );

  /** A plain-text packing slip, printed and put in the box. */
  router.get(
    '/:id/slip',
    handle((req, res) => {
      const order = orders.get(req.params.id!);
      const rows = order.lines.map((l) => `${String(l.quantity).padStart(4)} × ${l.sku.padEnd(18)} ${formatEur(l.unitPriceCents * l.quantity).padStart(12)}`);
      const t = order.totals;
      res.type('text/plain').send(
        [
          `Copperkettle Coffee Roasters — packing slip ${order.id}`,
          `Customer ${order.customerId}, placed ${order.createdAt.slice(0, 10)}`,
          '',
          ...rows,
          '',
          `Subtotal ${formatEur(t.subtotalCents)}`,
          ...(t.discountCents ? [`Partner discount −${formatEur(t.discountCents)}`] : []),
          `VAT ${formatEur(t.vatCents)}`,
          `Total ${formatEur(t.totalCents)}`,
          ...(order.note ? ['', `Note: ${order.note}`] : []),
        ].join('\n') + '\n',
      );
    }),
  );

  router.post(
    '/:id/status',
    admin,
    handle((req, res) => {
      const change = body(statusChangeBody, req);
      res.json(orders.transition(req.params.id!, change.status, change.reason));
    }),
  );

  return router;
}
