/** The catalogue: public reads, admin writes. */
import { Router, type RequestHandler } from 'express';
import { NotFoundError } from '../errors';
import { productBody } from '../schemas';
import type { Store } from '../store/memoryStore';
import type { Product } from '../types';
import { formatEur } from '../util/money';
import { body, handle, queryParam } from './validated';

export function productRoutes(store: Store, admin: RequestHandler): Router {
  const router = Router();

  router.get(
    '/',
    handle((req, res) => {
      const roast = queryParam(req, 'roast');
      const includeInactive = queryParam(req, 'all') === 'true';
      const products = store
        .products()
        .filter((p) => includeInactive || p.active)
        .filter((p) => roast === undefined || p.roast === roast);
      res.json({ products: products.map(withDisplayPrice) });
    }),
  );

  router.get(
    '/:sku',
    handle((req, res) => {
      const product = store.product(req.params.sku!);
      if (!product) throw new NotFoundError('product', req.params.sku!);
      res.json(withDisplayPrice(product));
    }),
  );

  router.put(
    '/:sku',
    admin,
    handle((req, res) => {
      const input = body(productBody, req);
      if (input.sku !== req.params.sku) {
        res.status(422).json({ error: { code: 'sku_mismatch', message: `body is for ${input.sku} but the URL names ${req.params.sku}` } });
        return;
      }
      const existed = store.product(input.sku) !== undefined;
      const product: Product = { ...input, active: input.active ?? true };
      store.putProduct(product);
      res.status(existed ? 200 : 201).json(withDisplayPrice(product));
    }),
  );

  return router;
}

function withDisplayPrice(product: Product) {
  return { ...product, price: formatEur(product.priceCents), pricePerKg: formatEur(Math.round((product.priceCents * 1000) / product.bagGrams)) };
}
