import request from 'supertest';
import { beforeEach, describe, expect, it } from 'vitest';
import { createApp } from '../src/app';
import { loadConfig } from '../src/config';
import { freshStore, TestClock } from './seed';

const ADMIN = { 'x-admin-token': 'test-admin-token' };

describe('HTTP API', () => {
  let app: ReturnType<typeof createApp>['app'];
  let log: string[];

  beforeEach(() => {
    log = [];
    const config = loadConfig({ STOCKROOM_ADMIN_TOKEN: 'test-admin-token', LOG_REQUESTS: 'false' });
    ({ app } = createApp({ config, store: freshStore(), log: (line) => log.push(line), now: new TestClock().now }));
  });

  it('lists active products with display prices', async () => {
    // Intl puts a no-break space between the amount and the euro sign.
    const res = await request(app).get('/products?roast=light').expect(200);
    expect(res.body.products.map((p: { sku: string; price: string }) => [p.sku, p.price])).toEqual([
      ['ETH-YIRG-1KG', '28,90\u00a0€'],
      ['ETH-YIRG-250G', '8,90\u00a0€'],
      ['KEN-NYER-500G', '17,90\u00a0€'],
    ]);
  });

  it('places an order and points at it', async () => {
    const res = await request(app)
      .post('/orders')
      .send({ customerId: 'cafe-kaleido', lines: [{ sku: 'COL-HUILA-1KG', quantity: 2 }] })
      .expect(201);
    expect(res.headers.location).toBe('/orders/SR-20240502-0001');
    expect(res.body.totals.totalCents).toBe(4719);
  });

  it('answers a bad body with every issue', async () => {
    const res = await request(app).post('/orders').send({ lines: [] }).expect(422);
    expect(res.body.error.details).toEqual([
      { path: 'customerId', message: 'is required' },
      { path: 'lines', message: 'needs at least 1 item' },
    ]);
  });

  it('answers broken JSON with 400', async () => {
    await request(app).post('/orders').set('content-type', 'application/json').send('{"customerId":').expect(400);
  });

  it('keeps admin routes closed without the token', async () => {
    await request(app).get('/inventory/low').expect(401);
    await request(app).post('/orders/SR-20240502-0001/status').send({ status: 'confirmed' }).expect(401);
    const res = await request(app).get('/inventory/low').set(ADMIN).expect(200);
    expect(res.body.items).toHaveLength(2);
  });

  it('walks an order through packing and prints a slip', async () => {
    const { body: order } = await request(app)
      .post('/orders')
      .send({ customerId: 'bean-and-leaf', lines: [{ sku: 'BRA-CERR-5KG', quantity: 1 }], note: 'deliver before 9am' })
      .expect(201);
    for (const status of ['confirmed', 'packed', 'shipped']) {
      await request(app).post(`/orders/${order.id}/status`).set(ADMIN).send({ status }).expect(200);
    }
    const slip = await request(app).get(`/orders/${order.id}/slip`).expect(200);
    expect(slip.text).toContain('1 × BRA-CERR-5KG');
    expect(slip.text).toContain('Note: deliver before 9am');
  });

  it('says which route does not exist', async () => {
    const res = await request(app).delete('/products').expect(404);
    expect(res.body.error.message).toBe('no route for DELETE /products');
  });
});
