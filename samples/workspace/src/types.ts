/** Domain types of the stockroom: what we sell, how much of it is on the shelf, and what customers ordered. */

/** Stock-keeping unit, e.g. "ETH-YIRG-1KG": origin, lot and bag size. */
export type Sku = string;

export type Roast = 'light' | 'medium' | 'dark';

export interface Product {
  sku: Sku;
  name: string;
  /** Country and region, e.g. "Ethiopia, Yirgacheffe". */
  origin: string;
  roast: Roast;
  /** Bag size in grams. */
  bagGrams: number;
  /** Wholesale price per bag in euro cents, before VAT. */
  priceCents: number;
  /** Inactive products stay in old orders but cannot be ordered again. */
  active: boolean;
}

export interface StockLevel {
  sku: Sku;
  /** Bags on the shelf, reserved ones included. */
  onHand: number;
  /** Bags promised to confirmed orders that have not shipped yet. */
  reserved: number;
  /** When the available bags fall to this number, the product shows up in the reorder report. */
  reorderPoint: number;
}

export type CustomerTier = 'standard' | 'partner';

export interface Customer {
  id: string;
  name: string;
  email: string;
  /** Partner cafés get a standing discount on every order. */
  tier: CustomerTier;
}

/**
 * An order moves forward through these states and never backwards:
 * pending → confirmed → packed → shipped, and any state before shipped may go to cancelled.
 */
export type OrderStatus = 'pending' | 'confirmed' | 'packed' | 'shipped' | 'cancelled';

export interface OrderLine {
  sku: Sku;
  quantity: number;
  /** Price per bag when the order was placed; later price changes do not touch existing orders. */
  unitPriceCents: number;
}

export interface Order {
  id: string;
  customerId: string;
  status: OrderStatus;
  lines: OrderLine[];
  /** Discount in basis points (1/100 of a percent) that applied when the order was placed. */
  discountBps: number;
  createdAt: string;
  updatedAt: string;
  note?: string;
}

export interface OrderTotals {
  subtotalCents: number;
  discountCents: number;
  vatCents: number;
  totalCents: number;
}

/** One row of the reorder report. */
export interface LowStockItem {
  sku: Sku;
  name: string;
  available: number;
  reorderPoint: number;
  /** Bags to order from the roaster to get back to twice the reorder point. */
  suggestedOrder: number;
}
