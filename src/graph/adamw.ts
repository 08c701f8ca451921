/**
 * The optimizer half of the training step, written against `Ops`: global-norm gradient clipping as
 * torch.nn.utils.clip_grad_norm_ does it, and AdamW (decoupled weight decay, bias correction) as torch.optim.AdamW
 * computes it. Hyperparameters are tensors, so a schedule changes the learning rate without rebuilding anything.
 */
import type { Ops } from './ops';

export interface AdamWHyperparameters<T> {
  learningRate: T;
  beta1: T;
  beta2: T;
  epsilon: T;
  weightDecay: T;
  /** The step being taken, counted from 1 (float scalar): the bias corrections are 1 − β^step. */
  step: T;
}

/** sqrt(Σ g²) over every element of every gradient. */
export function globalNorm<T>(ops: Ops<T>, grads: readonly T[]): T {
  let sum: T | null = null;
  for (const g of grads) {
    const rank = ops.shape(g).length;
    const squares = ops.reduceSum(ops.mul(g, g), Array.from({ length: rank }, (_, i) => i), false);
    sum = sum === null ? squares : ops.add(sum, squares);
  }
  return ops.sqrt(sum ?? ops.constant([0], []));
}

/** The factor gradients are multiplied by: min(1, maxNorm / (norm + 1e-6)); 1 when maxNorm ≤ 0 (no clipping). */
export function clipFactor<T>(ops: Ops<T>, norm: T, maxNorm: T): T {
  const one = ops.constant([1], []);
  const factor = ops.minimum(one, ops.div(maxNorm, ops.add(norm, ops.constant([1e-6], []))));
  return ops.where(ops.lessOrEqual(maxNorm, ops.constant([0], [])), one, factor);
}

/**
 * One AdamW step for parameter p with gradient g and moments m, v:
 *   m' = β₁m + (1 − β₁)g,  v' = β₂v + (1 − β₂)g²
 *   p' = p·(1 − lr·λ) − (lr / (1 − β₁ᵗ)) · m' / (sqrt(v') / sqrt(1 − β₂ᵗ) + ε)
 * with λ the weight decay when `decay` (torch applies the decay first, then the Adam update; so does this).
 */
export function adamwStep<T>(ops: Ops<T>, p: T, g: T, m: T, v: T, h: AdamWHyperparameters<T>, decay: boolean): { p: T; m: T; v: T } {
  const one = ops.constant([1], []);
  const m1 = ops.add(ops.mul(h.beta1, m), ops.mul(ops.sub(one, h.beta1), g));
  const v1 = ops.add(ops.mul(h.beta2, v), ops.mul(ops.sub(one, h.beta2), ops.mul(g, g)));
  const correction1 = ops.sub(one, ops.pow(h.beta1, h.step));
  const correction2 = ops.sub(one, ops.pow(h.beta2, h.step));
  const denominator = ops.add(ops.div(ops.sqrt(v1), ops.sqrt(correction2)), h.epsilon);
  const stepSize = ops.div(h.learningRate, correction1);
  const decayed = decay ? ops.mul(p, ops.sub(one, ops.mul(h.learningRate, h.weightDecay))) : p;
  return { p: ops.sub(decayed, ops.mul(stepSize, ops.div(m1, denominator))), m: m1, v: v1 };
}
