/** The shapes of request bodies the API accepts. Route handlers only ever see values that passed these. */
import { array, boolean, integer, object, oneOf, optional, string, type Infer } from './validation';

export const SKU_PATTERN = /^[A-Z]{3}-[A-Z0-9]{2,8}-(250G|500G|1KG|5KG)$/;

const sku = string({ pattern: SKU_PATTERN, patternName: 'a SKU like ETH-YIRG-1KG' });

export const orderLineBody = object({
  sku,
  quantity: integer({ min: 1 }),
});

export const createOrderBody = object({
  customerId: string({ min: 1, max: 40 }),
  lines: array(orderLineBody, { min: 1, max: 50 }),
  note: optional(string({ max: 500 })),
});
export type CreateOrderBody = Infer<typeof createOrderBody>;

export const productBody = object({
  sku,
  name: string({ min: 3, max: 80 }),
  origin: string({ min: 2, max: 80 }),
  roast: oneOf(['light', 'medium', 'dark'] as const),
  bagGrams: integer({ min: 250, max: 5000 }),
  priceCents: integer({ min: 1, max: 100_000 }),
  active: optional(boolean()),
});
export type ProductBody = Infer<typeof productBody>;

export const restockBody = object({
  bags: integer({ min: 1, max: 10_000 }),
  /** Delivery note number from the roaster, kept in the log for audits. */
  deliveryNote: string({ min: 3, max: 40 }),
});
export type RestockBody = Infer<typeof restockBody>;

export const statusChangeBody = object({
  status: oneOf(['confirmed', 'packed', 'shipped', 'cancelled'] as const),
  reason: optional(string({ max: 200 })),
});
export type StatusChangeBody = Infer<typeof statusChangeBody>;
