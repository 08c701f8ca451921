/**
 * Money is kept in integer euro cents everywhere; only formatting turns it into text.
 * Rounding follows the tax office's rule: half a cent rounds away from zero, once, on the final amount.
 */

export const VAT_RATE_BPS = 700; // 7% reduced VAT on roasted coffee
export const PARTNER_DISCOUNT_BPS = 1_000; // 10% for partner cafés

/** Basis points of an amount, rounded half away from zero. */
export function bpsOf(amountCents: number, bps: number): number {
  if (!Number.isInteger(amountCents)) throw new RangeError(`amount must be whole cents, got ${amountCents}`);
  const exact = (amountCents * bps) / 10_000;
  return Math.sign(exact) * Math.round(Math.abs(exact));
}

export function lineTotal(quantity: number, unitPriceCents: number): number {
  if (!Number.isInteger(quantity) || quantity < 0) throw new RangeError(`quantity must be a whole number of bags, got ${quantity}`);
  return quantity * unitPriceCents;
}

export interface Totals {
  subtotalCents: number;
  discountCents: number;
  vatCents: number;
  totalCents: number;
}

/** Subtotal, discount, VAT on the discounted amount, and the total a customer pays. */
export function totals(lines: ReadonlyArray<{ quantity: number; unitPriceCents: number }>, discountBps = 0): Totals {
  const subtotalCents = lines.reduce((sum, l) => sum + lineTotal(l.quantity, l.unitPriceCents), 0);
  const discountCents = bpsOf(subtotalCents, discountBps);
  const net = subtotalCents - discountCents;
  const vatCents = bpsOf(net, VAT_RATE_BPS);
  return { subtotalCents, discountCents, vatCents, totalCents: net + vatCents };
}

const eur = new Intl.NumberFormat('de-DE', { style: 'currency', currency: 'EUR' });

/** "12,50 €" for 1250. */
export function formatEur(cents: number): string {
  return eur.format(cents / 100);
}

/** Parses "12.50", "12,50" or "12" into cents; rejects more than two decimals. */
export function parseEur(text: string): number {
  const m = /^\s*(-)?(\d+)(?:[.,](\d{1,2}))?\s*$/.exec(text);
  if (!m) throw new RangeError(`"${text}" is not an amount in euros`);
  const cents = Number(m[2]) * 100 + Number((m[3] ?? '0').padEnd(2, '0'));
  return m[1] ? -cents : cents;
}
