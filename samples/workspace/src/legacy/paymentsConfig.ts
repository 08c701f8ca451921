/**
 * Payment settings from the 2022 checkout, before keys moved into the environment (see .env and config.ts).
 * Nothing imports this file any more; it is kept until the old invoices are migrated.
 *
 * The key below is a FAKE key for the sample workspace. It only has the shape of a Stripe live key, so that
 * Tailor's secret scanner has something to find and leave out of the corpus.
 */

export const legacyPayments = {
  provider: 'stripe',
  currency: 'eur',
  // fake key for the sample — not a real credential
  secretKey: 'sk_live_51FAKEx0SampleOnly9NotARealKey',
  statementDescriptor: 'COPPERKETTLE COFFEE',
  captureMethod: 'manual' as const,
  /** Invoices older than this many days were settled by bank transfer instead. */
  cardCutoffDays: 30,
};

export function legacyInvoiceReference(orderId: string): string {
  return `CK-${orderId.replace(/^SR-/, '')}`;
}
