/** Tiny models for graph and runtime tests: the seeded Hugging Face directories of test/unit/model/tinyModel.ts. */
import { moduleShape } from '../../../src/graph/onnx/inferenceGraph';
import { TARGET_MODULES, type LoraAdapter, type ModelConfig, type TargetModule, type TensorInfo, type WeightSource } from '../../../src/model/types';
import { seeded } from '../fixtureTree';
import { tinyModelMaker, type TinyModelOptions } from '../model/tinyModel';

export interface TestModel {
  dir: string;
  config: ModelConfig;
  weights: WeightSource;
  fingerprint: string;
}

/** A weight source over tensors already in memory (float32), in Hugging Face names and layout. */
export function memoryWeights(tensors: ReadonlyMap<string, Float32Array>, shapes: (name: string) => number[]): WeightSource {
  const get = (name: string) => {
    const t = tensors.get(name);
    if (!t) throw new Error(`no weight ${name}`);
    return t;
  };
  return {
    names: () => [...tensors.keys()],
    has: (name) => tensors.has(name),
    info: (name): TensorInfo => ({ name, dtype: 'F32', shape: shapes(name) }),
    float32: (name) => get(name),
  };
}

/**
 * Makes tiny models for one test file. Weights are drawn with a larger spread than the generator's default so that
 * logits differ clearly between tokens and positions.
 */
export function testModelMaker(): (options: TinyModelOptions) => TestModel {
  const make = tinyModelMaker();
  return (options) => {
    const tiny = make({ scale: 0.15, ...options });
    const shapes = new Map<string, number[]>();
    for (const spec of tensorShapes(tiny.config)) shapes.set(spec[0], spec[1]);
    return {
      dir: tiny.dir,
      config: tiny.config,
      weights: memoryWeights(tiny.tensors, (n) => shapes.get(n)!),
      fingerprint: `tiny-${options.shape}-${options.seed ?? 1}`,
    };
  };
}

function tensorShapes(c: ModelConfig): [string, number[]][] {
  const q = c.numHeads * c.headDim;
  const kv = c.numKvHeads * c.headDim;
  const out: [string, number[]][] = [['model.embed_tokens.weight', [c.vocabSize, c.hiddenSize]]];
  for (let n = 0; n < c.numLayers; n++) {
    const p = `model.layers.${n}`;
    out.push([`${p}.input_layernorm.weight`, [c.hiddenSize]], [`${p}.post_attention_layernorm.weight`, [c.hiddenSize]]);
    out.push([`${p}.self_attn.q_proj.weight`, [q, c.hiddenSize]], [`${p}.self_attn.k_proj.weight`, [kv, c.hiddenSize]], [`${p}.self_attn.v_proj.weight`, [kv, c.hiddenSize]]);
    out.push([`${p}.self_attn.q_proj.bias`, [q]], [`${p}.self_attn.k_proj.bias`, [kv]], [`${p}.self_attn.v_proj.bias`, [kv]]);
    out.push([`${p}.self_attn.o_proj.weight`, [c.hiddenSize, q]]);
    out.push([`${p}.mlp.gate_proj.weight`, [c.intermediateSize, c.hiddenSize]], [`${p}.mlp.up_proj.weight`, [c.intermediateSize, c.hiddenSize]], [`${p}.mlp.down_proj.weight`, [c.hiddenSize, c.intermediateSize]]);
  }
  out.push(['model.norm.weight', [c.hiddenSize]], ['lm_head.weight', [c.vocabSize, c.hiddenSize]]);
  return out;
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
