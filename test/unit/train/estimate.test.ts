/** The training-time estimate shown before a run (src/train/estimate.ts). */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BYTES_PER_TOKEN, estimatedSteps, estimateTraining, formatMinutes } from '../../../src/train/estimate';

const corpus = (bytes: number) => ({ train: { files: 10, bytes } });
const base = { sequence: 512, batch: 4, accumulation: 1, budgetMs: 10 * 60_000, device: 'the CPU (no GPU found)' };

describe('training estimate', () => {
  it('chooses steps as the trainer does: three passes, 20 to 2,000', () => {
    const perStep = 512 * 4;
    assert.equal(estimatedSteps({ ...base, corpus: corpus(100 * perStep * BYTES_PER_TOKEN) }), 300);
    assert.equal(estimatedSteps({ ...base, corpus: corpus(100) }), 20);
    assert.equal(estimatedSteps({ ...base, corpus: corpus(1e12) }), 2000);
    assert.equal(estimatedSteps({ ...base, corpus: corpus(1e12), steps: 77 }), 77, 'the setting wins');
  });

  it('without a measured speed, quotes the budget as the upper bound and says the run will measure it', () => {
    const e = estimateTraining({ ...base, corpus: corpus(1_000_000) });
    assert.equal(e.ms, null);
    assert.match(e.text, /^Training runs on the CPU \(no GPU found\): about \d+ steps, at most 10 min/);
    assert.match(e.text, /measures this machine's speed/);
  });

  it('with a measured speed, gives the time for the steps (plus a tenth), capped by the budget', () => {
    const e = estimateTraining({ ...base, corpus: corpus(1_000_000), steps: 100, measuredTokensPerSecond: 2048 });
    assert.equal(e.ms, 100 * 1000 * 1.1);
    assert.match(e.text, /about 2 min for 100 steps, at the 2,048 tokens\/s/);
    const long = estimateTraining({ ...base, corpus: corpus(1_000_000), steps: 2000, measuredTokensPerSecond: 100 });
    assert.equal(long.ms, base.budgetMs);
    assert.match(long.text, /the 10 min budget .* stops it before 2000 steps/);
  });

  it('formats minutes for people', () => {
    assert.equal(formatMinutes(20_000), 'under a minute');
    assert.equal(formatMinutes(70_000), 'about 1 min');
    assert.equal(formatMinutes(5.4 * 60_000), 'about 5 min');
  });
});
