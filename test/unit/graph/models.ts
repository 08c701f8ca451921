/** Tiny models for graph and runtime tests: the seeded Hugging Face directories of test/unit/model/tinyModel.ts. */
import { loadModelDir } from '../../../src/model/modelDir';
import { moduleShape, TARGET_MODULES, type LoraAdapter, type ModelConfig, type TargetModule, type WeightSource } from '../../../src/model/types';
import { seeded } from '../fixtureTree';
import { tinyModelMaker, type TinyModelOptions } from '../model/tinyModel';

export interface TestModel {
  dir: string;
  config: ModelConfig;
  weights: WeightSource;
  fingerprint: string;
}

/**
 * Makes tiny models for one test file, loaded the way Tailor loads any model (`loadModelDir`). Weights are drawn
 * with a larger spread than the generator's default so that logits differ clearly between tokens and positions.
 */
export function testModelMaker(): (options: TinyModelOptions) => TestModel {
  const make = tinyModelMaker();
  return (options) => {
    const tiny = make({ scale: 0.15, ...options });
    const loaded = loadModelDir(tiny.dir);
    return { dir: loaded.dir, config: loaded.config, weights: loaded.weights, fingerprint: loaded.fingerprint };
  };
}

/** A LoRA adapter with seeded random A and B (or B = 0, as PEFT initialises it) on `targets`. */
export function randomAdapter(config: ModelConfig, options: { rank: number; seed: number; alpha?: number; targets?: readonly TargetModule[]; zeroB?: boolean; std?: number }): LoraAdapter {
  const random = seeded(options.seed);
  const std = options.std ?? 0.1;
  const draw = (n: number) => Float32Array.from({ length: n }, () => (random() * 2 - 1) * std * Math.sqrt(3));
  const targets = [...(options.targets ?? TARGET_MODULES)];
  const tensors = new Map<string, { a: Float32Array; b: Float32Array }>();
  for (let n = 0; n < config.numLayers; n++) {
    for (const m of targets) {
      const shape = moduleShape(config, m);
      tensors.set(`${n}.${m}`, { a: draw(options.rank * shape.in), b: options.zeroB ? new Float32Array(shape.out * options.rank) : draw(shape.out * options.rank) });
    }
  }
  const alpha = options.alpha ?? 2 * options.rank;
  return { rank: options.rank, alpha, scale: options.rank ? alpha / options.rank : 0, targets, tensors };
}

/** Largest |a − b| over two equal-length arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`maxAbsDiff: lengths ${a.length} and ${b.length}`);
  let max = 0;
  for (let i = 0; i < a.length; i++) max = Math.max(max, Math.abs(a[i]! - b[i]!));
  return max;
}

/** Token ids drawn from the byte and merge range of the tiny tokenizer. */
export function randomIds(count: number, seed: number, vocab = 320): number[] {
  const random = seeded(seed);
  return Array.from({ length: count }, () => Math.floor(random() * vocab));
}
