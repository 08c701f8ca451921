/**
 * The training-step graph: one ONNX graph per optimizer micro-step that runs the forward (llama.ts), the masked
 * cross-entropy, the backward written per layer (llamaBackward.ts), gradient accumulation, global-norm clipping and
 * AdamW (adamw.ts). Base weights are frozen initializers in LoRA mode (no gradient is computed for them); in full
 * mode every weight, the embedding included, is a trainable input.
 *
 *   inputs   tokens, targets                     [batch, sequence] int64
 *            loss_mask                           [batch, sequence] float (1: the position counts)
 *            dropout_rows                        [batch, sequence] uint32: each position's dropout row key (LoRA dropout
 *                                                > 0 only; the graph draws the keep-masks from it, graph/dropoutMask.ts)
 *            <tensor>                            each trainable tensor (PEFT names in LoRA mode, Hugging Face names in full mode)
 *            <tensor>.exp_avg / .exp_avg_sq      AdamW's moments
 *            <tensor>.grad_sum                   Σ of the loss-sum gradients of the micro-batches accumulated so far
 *            accumulated_tokens                  [] masked positions of those micro-batches
 *            apply                               [] bool: take the optimizer step now (else only accumulate)
 *            step, learning_rate, beta1, beta2, epsilon, weight_decay, max_grad_norm     [] float
 *   outputs  loss_sum, tokens_counted            [] this micro-batch's summed loss and masked positions
 *            grad_norm                           [] norm of the averaged gradient, before clipping
 *            <tensor>.updated, .exp_avg.updated, .exp_avg_sq.updated    the step's result (the inputs when not applying)
 *            <tensor>.grad_sum.updated           zero after applying, else the sum so far
 *
 * Gradients are averaged over every masked position of every accumulated micro-batch: (Σ grad_sum) / (Σ tokens),
 * so accumulating micro-batches equals one step on their concatenation. The 'evaluate' graph is the forward and the
 * loss only (loss_sum, tokens_counted).
 */
import { moduleBlock, moduleShape, TARGET_MODULES, type ModelConfig, type TargetModule, type WeightSource } from '../../model/types';
import { adamwStep, clipFactor, globalNorm, type AdamWHyperparameters } from '../adamw';
import { llamaForward, loraKey, maskedCrossEntropy, projectionHasBias, projectionName, type LoraPair } from '../llama';
import { DROPOUT_MULTIPLIERS, dropoutColumnKeys, keepThreshold, ROTATE } from '../dropoutMask';
import { crossEntropyBackward, llamaBackward } from '../llamaBackward';
import { withWeights, type Ops } from '../ops';
import { OnnxGraph, type OnnxModelSpec, type OnnxValue } from './onnxGraph';
import { OnnxOps } from './onnxOps';

/** Bump whenever the emitted graph changes: compiled graphs cached on disk are keyed by it. */
export const TRAINING_GRAPH_VERSION = 4;

export interface LoraGraphMode {
  kind: 'lora';
  rank: number;
  /** alpha / rank, or alpha / sqrt(rank) with rsLoRA. */
  scale: number;
  targets: readonly TargetModule[];
  /** Dropout probability on each branch's input; 0: none (and no mask inputs). */
  dropout: number;
}

export type TrainingGraphMode = LoraGraphMode | { kind: 'full' };

export interface TrainingGraphOptions {
  mode: TrainingGraphMode;
  /** 'step' (default): the training step; 'evaluate': forward and loss only. */
  purpose?: 'step' | 'evaluate';
  /** Also output every trainable tensor's averaged gradient before clipping as `<tensor>.grad` (checks). */
  gradientOutputs?: boolean;
  /** Also output the logits [batch, sequence, vocab] (checks). */
  logitsOutput?: boolean;
  /** Frozen projections in float16 (onnxOps.ts); LoRA tensors and the optimizer stay float32. Default false. */
  halfProjections?: boolean;
}

/** A tensor the step trains. */
export interface TrainableTensor {
  /** PEFT name (LoRA) or Hugging Face name (full). */
  name: string;
  shape: number[];
  /** Weight decay applies (not to biases and norm weights, as Transformers' Trainer decides). */
  decay: boolean;
  /** LoRA mode: which A or B of which module. */
  lora?: { layer: number; module: TargetModule; which: 'a' | 'b' };
}

export const trainingNames = {
  tokens: 'tokens',
  targets: 'targets',
  lossMask: 'loss_mask',
  dropoutRows: 'dropout_rows',
  firstMoment: (tensor: string) => `${tensor}.exp_avg`,
  secondMoment: (tensor: string) => `${tensor}.exp_avg_sq`,
  gradSum: (tensor: string) => `${tensor}.grad_sum`,
  accumulatedTokens: 'accumulated_tokens',
  apply: 'apply',
  step: 'step',
  learningRate: 'learning_rate',
  beta1: 'beta1',
  beta2: 'beta2',
  epsilon: 'epsilon',
  weightDecay: 'weight_decay',
  maxGradNorm: 'max_grad_norm',
  lossSum: 'loss_sum',
  tokensCounted: 'tokens_counted',
  gradNorm: 'grad_norm',
  updated: (name: string) => `${name}.updated`,
  gradient: (tensor: string) => `${tensor}.grad`,
  logits: 'logits',
};
const N = trainingNames;

/** PEFT's name of a LoRA tensor: `base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`. */
export function peftTensorName(layer: number, module: TargetModule, which: 'a' | 'b'): string {
  return `base_model.model.model.layers.${layer}.${moduleBlock(module)}.${module}.lora_${which === 'a' ? 'A' : 'B'}.weight`;
}

/** Every weight the forward reads, by Hugging Face name, in model order. */
export function modelWeightNames(config: ModelConfig): string[] {
  const names = ['model.embed_tokens.weight'];
  for (let layer = 0; layer < config.numLayers; layer++) {
    names.push(`model.layers.${layer}.input_layernorm.weight`);
    for (const m of ['q_proj', 'k_proj', 'v_proj', 'o_proj'] as const) {
      names.push(projectionName(layer, m));
      if (projectionHasBias(config, m)) names.push(projectionName(layer, m, 'bias'));
    }
    names.push(`model.layers.${layer}.post_attention_layernorm.weight`);
    for (const m of ['gate_proj', 'up_proj', 'down_proj'] as const) names.push(projectionName(layer, m));
  }
  names.push('model.norm.weight');
  if (!config.tieWordEmbeddings) names.push('lm_head.weight');
  return names;
}

/** The tensors a mode trains, in a fixed order (the graph's inputs and outputs follow it). */
export function trainableTensors(config: ModelConfig, weights: WeightSource, mode: TrainingGraphMode): TrainableTensor[] {
  if (mode.kind === 'full') {
    return modelWeightNames(config).map((name) => {
      const shape = [...weights.info(name).shape];
      return { name, shape, decay: shape.length > 1 };
    });
  }
  const tensors: TrainableTensor[] = [];
  for (let layer = 0; layer < config.numLayers; layer++) {
    for (const module of mode.targets) {
      const { in: inner, out } = moduleShape(config, module);
      tensors.push({ name: peftTensorName(layer, module, 'a'), shape: [mode.rank, inner], decay: true, lora: { layer, module, which: 'a' } });
      tensors.push({ name: peftTensorName(layer, module, 'b'), shape: [out, mode.rank], decay: true, lora: { layer, module, which: 'b' } });
    }
  }
  return tensors;
}

export function buildTrainingGraph(config: ModelConfig, weights: WeightSource, options: TrainingGraphOptions, metadata: Record<string, string> = {}): OnnxModelSpec {
  const purpose = options.purpose ?? 'step';
  const mode = options.mode;
  const graph = new OnnxGraph();
  const base = new OnnxOps(graph, weights, { halfProjections: options.halfProjections === true });
  const tensors = trainableTensors(config, weights, mode);

  const tokens = graph.input(N.tokens, 'int64', ['batch', 'sequence']);
  const targets = graph.input(N.targets, 'int64', ['batch', 'sequence']);
  const lossMask = graph.input(N.lossMask, 'float32', ['batch', 'sequence']);
  const params = new Map(tensors.map((t) => [t.name, graph.input(t.name, 'float32', t.shape)]));

  let ops: Ops<OnnxValue> = base;
  let lora = null;
  if (mode.kind === 'full') {
    ops = withWeights(base, params);
  } else {
    const modules = new Map<string, LoraPair<OnnxValue>>();
    for (const t of tensors) {
      const key = loraKey(t.lora!.layer, t.lora!.module);
      const pair = modules.get(key) ?? ({} as LoraPair<OnnxValue>);
      pair[t.lora!.which] = params.get(t.name)!;
      modules.set(key, pair);
    }
    const dropout = new Map<string, OnnxValue>();
    if (purpose === 'step' && mode.dropout > 0) {
      const rowKeys = dropoutRowInput(graph);
      const keepScale = base.constant([1 / (1 - mode.dropout)], []);
      for (let layer = 0; layer < config.numLayers; layer++) {
        for (const module of mode.targets) {
          const keep = dropoutKeep(graph, rowKeys, layer, module, moduleShape(config, module).in, mode.dropout);
          dropout.set(loraKey(layer, module), base.mul(base.cast(keep, 'float32'), keepScale));
        }
      }
    }
    lora = { scale: base.constant([mode.scale], []), modules, dropout };
  }

  const forward = llamaForward(ops, config, { inputIds: tokens, lora });
  const loss = maskedCrossEntropy(ops, forward.logits, targets, lossMask);
  const outputs: [OnnxValue, string][] = [
    [loss.lossSum, N.lossSum],
    [loss.tokens, N.tokensCounted],
  ];
  if (options.logitsOutput) outputs.push([forward.logits, N.logits]);

  if (purpose === 'step') {
    const scalar = (name: string, dtype: 'float32' | 'bool' = 'float32') => graph.input(name, dtype, []);
    const accumulatedTokens = scalar(N.accumulatedTokens);
    const apply = scalar(N.apply, 'bool');
    const h: AdamWHyperparameters<OnnxValue> = {
      step: scalar(N.step),
      learningRate: scalar(N.learningRate),
      beta1: scalar(N.beta1),
      beta2: scalar(N.beta2),
      epsilon: scalar(N.epsilon),
      weightDecay: scalar(N.weightDecay),
    };
    const maxGradNorm = scalar(N.maxGradNorm);

    const grads = llamaBackward(ops, config, forward.acts, crossEntropyBackward(ops, loss.acts), { weights: mode.kind === 'full' });
    const gradientOf = (t: TrainableTensor): OnnxValue => {
      const g = t.lora ? grads.lora.get(loraKey(t.lora.layer, t.lora.module))?.[t.lora.which] : grads.weights.get(t.name);
      if (!g) throw new Error(`buildTrainingGraph: the backward gave no gradient for ${t.name}`);
      return g;
    };
    // Averaged over every masked position accumulated; a batch without any has zero gradients, not NaN.
    const totalTokens = base.maximum(base.add(accumulatedTokens, loss.tokens), base.constant([1e-12], []));
    const sums = tensors.map((t) => base.add(graph.input(N.gradSum(t.name), 'float32', t.shape), gradientOf(t)));
    const averaged = sums.map((s) => base.div(s, totalTokens));
    const norm = globalNorm(base, averaged);
    const clip = clipFactor(base, norm, maxGradNorm);
    const zero = base.constant([0], []);
    tensors.forEach((t, i) => {
      const p = params.get(t.name)!;
      const m = graph.input(N.firstMoment(t.name), 'float32', t.shape);
      const v = graph.input(N.secondMoment(t.name), 'float32', t.shape);
      const next = adamwStep(base, p, base.mul(averaged[i]!, clip), m, v, h, t.decay);
      outputs.push([base.where(apply, next.p, p), N.updated(t.name)]);
      outputs.push([base.where(apply, next.m, m), N.updated(N.firstMoment(t.name))]);
      outputs.push([base.where(apply, next.v, v), N.updated(N.secondMoment(t.name))]);
      outputs.push([base.where(apply, zero, sums[i]!), N.updated(N.gradSum(t.name))]);
      if (options.gradientOutputs) outputs.push([averaged[i]!, N.gradient(t.name)]);
    });
    outputs.push([norm, N.gradNorm]);
  }

  for (const [value, name] of outputs) graph.output(value, name);
  return graph.spec({
    graphName: `tailor_llama_${purpose === 'step' ? 'train_step' : 'evaluate'}`,
    metadata: { 'tailor.graph': purpose === 'step' ? 'train-step' : 'evaluate', 'tailor.graph_version': String(TRAINING_GRAPH_VERSION), ...metadata },
    docString: `Llama-family ${purpose === 'step' ? 'training step' : 'evaluation'} graph (${config.modelType}, ${config.numLayers} layers, ${mode.kind === 'full' ? 'full' : `LoRA r${mode.rank}`}).`,
  });
}

/** The `dropout_rows` input, as [batch, sequence, 1] for `dropoutKeep`. */
export function dropoutRowInput(graph: OnnxGraph): OnnxValue {
  const rows = graph.input(N.dropoutRows, 'uint32', ['batch', 'sequence']);
  return graph.node('Unsqueeze', [rows, graph.constant([2], [1], 'int64')], [{ dtype: 'uint32', shape: ['batch', 'sequence', 1] }])[0]!;
}

/**
 * One layer's module's keep-mask [batch, sequence, width] (true: kept), drawn on the device from the row keys
 * [batch, sequence, 1] and the module's column keys as graph/dropoutMask.ts's `dropoutDraw` draws it.
 */
export function dropoutKeep(graph: OnnxGraph, rowKeys: OnnxValue, layer: number, module: TargetModule, width: number, dropout: number): OnnxValue {
  const shape = ['batch', 'sequence', width];
  const u32 = (op: string, a: OnnxValue, b: OnnxValue) => graph.node(op, [a, b], [{ dtype: 'uint32', shape }])[0]!;
  const scalar = (v: number) => graph.constant([v], [], 'uint32');
  const keys = dropoutColumnKeys(layer, TARGET_MODULES.indexOf(module), width);
  const bytes = new Uint8Array(keys.buffer, keys.byteOffset, keys.byteLength);
  const columns = graph.initializer({ name: `dropout_columns.${layer}.${module}`, dtype: 'uint32', dims: [width], byteLength: bytes.byteLength, data: () => bytes });
  let x = u32('Mul', rowKeys, columns);
  DROPOUT_MULTIPLIERS.forEach((m, i) => {
    x = u32('Mul', x, scalar(m));
    // Rotation by 16 bits: the WebGPU provider has no BitShift, but exact uint32 Div and wrapping Mul.
    if (i < DROPOUT_MULTIPLIERS.length - 1) x = u32('Add', u32('Div', x, scalar(ROTATE)), u32('Mul', x, scalar(ROTATE)));
  });
  return graph.node('Less', [x, scalar(keepThreshold(dropout))], [{ dtype: 'bool', shape }])[0]!;
}
