/**
 * `TrainStepRunner` on TensorFlow.js, the optional engine `tailor.training.engine: "tfjs-node-gpu"` asks for: the
 * step the training-step graph (graph/onnx/trainingGraph.ts) lowers to ONNX — forward, masked cross-entropy, the
 * hand-written backward, gradient accumulation, global-norm clipping and AdamW, all from src/graph/ — run eagerly
 * through the tfjs lowering (graph/tfjsOps.ts) instead. Nothing here is new arithmetic: the same Ops-generic functions
 * run in the same order, so both engines compute the same step up to float32 rounding. (Every weight stays float32
 * here: the ORT graph's float16 frozen projections, for GPUs that compute in half precision, have no tfjs counterpart.)
 *
 * Each call runs under tf.tidy. The trainable tensors, AdamW's moments and the accumulated gradient sums are tensors
 * kept from one step to the next (in GPU memory on tfjs-node-gpu) and only the loss, token count and gradient norm
 * come back to the host; the frozen base weights are uploaded once, when the first step reads them. LoRA
 * initialisation, dropout masks, batch checks, checkpoints and the adapter are ortStepRunner.ts's, so a seed trains
 * the same adapter on either engine and a checkpoint of one resumes on the other.
 */
import type * as TF from '@tensorflow/tfjs';
import { adamwStep, clipFactor, globalNorm, type AdamWHyperparameters } from '../graph/adamw';
import { dropoutColumnKeys, dropoutKeepMask, dropoutRowKeys, keepThreshold } from '../graph/dropoutMask';
import { llamaForward, loraKey, maskedCrossEntropy, type LlamaInputs, type LoraPair } from '../graph/llama';
import { crossEntropyBackward, llamaBackward, type Gradients } from '../graph/llamaBackward';
import { trainableTensors, type TrainableTensor, type TrainingGraphMode } from '../graph/onnx/trainingGraph';
import { withWeights, type Ops } from '../graph/ops';
import { TfjsOps } from '../graph/tfjsOps';
import { moduleShape, TARGET_MODULES, type LoraAdapter } from '../model/types';
import type { Engine } from '../runtime/engine';
import { loadTfjsNodeGpu, type Tfjs } from '../runtime/tfjsLoader';
import { checkBatch, checkpointValues, checkTrainingMode, graphMode, initialTensor, loraAdapterOf, tensorSize, type StepRunnerModel, type StepRunnerOptions } from './ortStepRunner';
import { AccumulationState, disposeSlots, type RunnerSlot, type OptimizerSettings, type StepResult, type TrainableState, type TrainBatch, type TrainingMode, type TrainStepRunner } from './stepRunner';

type Tensor = TF.Tensor;

/** The ORT runner's options less the graph cache (nothing is compiled here). */
export type TfjsStepRunnerOptions = Pick<StepRunnerOptions, 'mode' | 'batch' | 'sequence' | 'seed'>;

export async function createTfjsStepRunner(tf: Tfjs, model: StepRunnerModel, options: TfjsStepRunnerOptions): Promise<TrainStepRunner> {
  checkTrainingMode(options.mode);
  return new TfjsStepRunner(tf, model, options);
}

/**
 * The engine of a training job that asked for tfjs-node-gpu (trainJob.ts): a runner factory in `createStepRunner`'s
 * shape (the ONNX Runtime engine it is handed is left to evaluation) and what progress and the log report.
 * Throws the loader's TailorError when the package is missing or does not load.
 */
export function tfjsTrainingEngine(load?: () => unknown): {
  info: { provider: string; reason: string };
  createRunner: (engine: Engine, model: StepRunnerModel, options: StepRunnerOptions) => Promise<TrainStepRunner>;
} {
  const tfjs = loadTfjsNodeGpu(load);
  return { info: { provider: tfjs.provider, reason: tfjs.reason }, createRunner: (_engine, model, options) => createTfjsStepRunner(tfjs.tf, model, options) };
}

type Slot = RunnerSlot<Tensor>;

class TfjsStepRunner implements TrainStepRunner {
  readonly trainableNames: readonly string[];
  private readonly graphMode: TrainingGraphMode;
  /** Reads the frozen base weights, each uploaded once and kept until dispose. */
  private readonly ops: TfjsOps;
  private slots: Slot[];
  private readonly progress = new AccumulationState();
  private disposed = false;

  constructor(
    private readonly tf: Tfjs,
    private readonly model: StepRunnerModel,
    private readonly options: TfjsStepRunnerOptions,
  ) {
    this.graphMode = graphMode(options.mode);
    const tensors = trainableTensors(model.config, model.weights, this.graphMode);
    this.trainableNames = tensors.map((t) => t.name);
    this.ops = new TfjsOps(tf, model.weights);
    this.slots = tensors.map((t) => this.slot(t, initialTensor(model.weights, options.seed, t), new Float32Array(tensorSize(t)), new Float32Array(tensorSize(t))));
  }

  get mode(): TrainingMode {
    return this.options.mode;
  }

  async step(batch: TrainBatch, optimizer: OptimizerSettings, apply: boolean): Promise<StepResult> {
    this.check(batch);
    const { tf } = this;
    const config = this.model.config;
    const full = this.graphMode.kind === 'full';
    // Drawn before the tidy: the same masks, from the same counters, as the ORT runner feeds its graph.
    const dropout = this.dropoutMasks(batch);
    const scalar = (v: number) => tf.scalar(v, 'float32');
    const previous = this.slots;
    let out: { params: Tensor[]; firstMoments: Tensor[]; secondMoments: Tensor[]; gradSums: Tensor[]; scalars: Tensor };
    try {
      out = tf.tidy(() => {
        const { ops, inputs, targets, lossMask } = this.forwardInputs(batch, dropout);
        const forward = llamaForward(ops, config, inputs);
        const loss = maskedCrossEntropy(ops, forward.logits, targets, lossMask);
        const grads = llamaBackward(ops, config, forward.acts, crossEntropyBackward(ops, loss.acts), { weights: full });
        // As the graph: averaged over every masked position accumulated; a batch without any has zero gradients.
        const totalTokens = ops.maximum(ops.add(scalar(this.progress.accumulatedTokens), loss.tokens), scalar(1e-12));
        const sums = previous.map((s) => ops.add(s.gradSum, gradientOf(grads, s.tensor)));
        const averaged = sums.map((g) => ops.div(g, totalTokens));
        const norm = globalNorm(ops, averaged);
        const scalars = tf.concat([loss.lossSum, loss.tokens, norm].map((t) => tf.reshape(t, [1])));
        if (!apply) {
          return { params: previous.map((s) => s.param), firstMoments: previous.map((s) => s.firstMoment), secondMoments: previous.map((s) => s.secondMoment), gradSums: sums, scalars };
        }
        const clip = clipFactor(ops, norm, scalar(optimizer.maxGradNorm));
        const h: AdamWHyperparameters<Tensor> = {
          step: scalar(this.progress.stepsTaken + 1),
          learningRate: scalar(optimizer.learningRate),
          beta1: scalar(optimizer.beta1),
          beta2: scalar(optimizer.beta2),
          epsilon: scalar(optimizer.epsilon),
          weightDecay: scalar(optimizer.weightDecay),
        };
        const next = previous.map((s, i) => adamwStep(ops, s.param, ops.mul(averaged[i]!, clip), s.firstMoment, s.secondMoment, h, s.tensor.decay));
        return { params: next.map((n) => n.p), firstMoments: next.map((n) => n.m), secondMoments: next.map((n) => n.v), gradSums: previous.map((s) => tf.zerosLike(s.gradSum)), scalars };
      });
    } catch (error) {
      throw engineError(error);
    }
    // Kept: a caller's own tidy around a step must not free the state the next step reads.
    const keep = (t: Tensor) => tf.keep(t);
    this.slots = previous.map((s, i) => ({ tensor: s.tensor, param: keep(out.params[i]!), firstMoment: keep(out.firstMoments[i]!), secondMoment: keep(out.secondMoments[i]!), gradSum: keep(out.gradSums[i]!) }));
    disposeReplaced(previous, this.slots);
    const values = await out.scalars.data();
    out.scalars.dispose();
    const [lossSum, tokens, gradNorm] = [values[0]!, values[1]!, values[2]!];
    this.progress.record(apply, tokens);
    return { loss: tokens > 0 ? lossSum / tokens : 0, gradNorm, tokens };
  }

  async evaluate(batch: TrainBatch): Promise<{ lossSum: number; tokens: number }> {
    this.check(batch);
    let scalars: Tensor;
    try {
      scalars = this.tf.tidy(() => {
        const { ops, inputs, targets, lossMask } = this.forwardInputs(batch, null);
        const loss = maskedCrossEntropy(ops, llamaForward(ops, this.model.config, inputs).logits, targets, lossMask);
        return this.tf.concat([this.tf.reshape(loss.lossSum, [1]), this.tf.reshape(loss.tokens, [1])]);
      });
    } catch (error) {
      throw engineError(error);
    }
    const values = await scalars.data();
    scalars.dispose();
    return { lossSum: values[0]!, tokens: values[1]! };
  }

  async state(): Promise<TrainableState> {
    const read = async (pick: (s: Slot) => Tensor) => new Map(await Promise.all(this.slots.map(async (s) => [s.tensor.name, await hostCopy(pick(s))] as const)));
    return { step: this.progress.stepsTaken, tensors: await read((s) => s.param), firstMoments: await read((s) => s.firstMoment), secondMoments: await read((s) => s.secondMoment) };
  }

  async restore(state: TrainableState): Promise<void> {
    // Every value checked before anything is replaced: a bad checkpoint leaves the runner as it was.
    const values = this.slots.map((s) => [checkpointValues(state.tensors, s.tensor, 'tensor'), checkpointValues(state.firstMoments, s.tensor, 'first moment'), checkpointValues(state.secondMoments, s.tensor, 'second moment')] as const);
    const next = this.slots.map((s, i) => this.slot(s.tensor, ...values[i]!));
    disposeSlots(this.slots);
    this.slots = next;
    this.progress.restart(state.step);
  }

  async adapter(): Promise<LoraAdapter> {
    const values = await Promise.all(this.slots.map((s) => hostCopy(s.param)));
    return loraAdapterOf(this.options.mode, this.slots.map((s) => s.tensor), values);
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    disposeSlots(this.slots);
    this.ops.dispose();
  }

  private check(batch: TrainBatch): void {
    if (this.disposed) throw new Error('TrainStepRunner: used after dispose()');
    checkBatch(batch, this.options, this.model.config.vocabSize);
  }

  private slot(t: TrainableTensor, param: Float32Array, firstMoment: Float32Array, secondMoment: Float32Array): Slot {
    const tensor = (values: Float32Array) => this.tf.keep(this.tf.tensor(values, t.shape, 'float32'));
    return { tensor: t, param: tensor(param), firstMoment: tensor(firstMoment), secondMoment: tensor(secondMoment), gradSum: tensor(new Float32Array(tensorSize(t))) };
  }

  /**
   * The forward's inputs as the graph builder wires them: token ids (int32: tfjs has no int64), the trainable
   * tensors standing in for the weights (full) or as LoRA pairs with their scale and dropout masks (LoRA).
   * Call inside a tidy.
   */
  private forwardInputs(batch: TrainBatch, dropout: Map<string, Float32Array> | null): { ops: Ops<Tensor>; inputs: LlamaInputs<Tensor>; targets: Tensor; lossMask: Tensor } {
    const { tf } = this;
    const dims = [batch.batch, batch.sequence];
    const tokens = tf.tensor(batch.tokens, dims, 'int32');
    const targets = tf.tensor(batch.targets, dims, 'int32');
    const lossMask = tf.tensor(batch.lossMask, dims, 'float32');
    const mode = this.graphMode;
    if (mode.kind === 'full') {
      const ops = withWeights<Tensor>(this.ops, new Map(this.slots.map((s) => [s.tensor.name, s.param])));
      return { ops, inputs: { inputIds: tokens, lora: null }, targets, lossMask };
    }
    const modules = new Map<string, LoraPair<Tensor>>();
    for (const s of this.slots) {
      const key = loraKey(s.tensor.lora!.layer, s.tensor.lora!.module);
      const pair = modules.get(key) ?? ({} as LoraPair<Tensor>);
      pair[s.tensor.lora!.which] = s.param;
      modules.set(key, pair);
    }
    const masks = new Map<string, Tensor>();
    for (const [key, values] of dropout ?? []) masks.set(key, tf.tensor(values, [batch.batch, batch.sequence, values.length / (batch.batch * batch.sequence)], 'float32'));
    return { ops: this.ops, inputs: { inputIds: tokens, lora: { scale: tf.scalar(mode.scale, 'float32'), modules, dropout: masks } }, targets, lossMask };
  }

  /**
   * LoRA dropout's masks for this micro-batch by `${layer}.${module}`, already scaled by 1/(1 − p) as the graph
   * scales its keep inputs (a kept entry is exactly float32(1/(1 − p)) on both engines); null without dropout.
   */
  private dropoutMasks(batch: TrainBatch): Map<string, Float32Array> | null {
    const mode = this.graphMode;
    if (mode.kind !== 'lora' || mode.dropout === 0) return null;
    const masks = new Map<string, Float32Array>();
    // The masks the ONNX Runtime graph draws on its device, drawn here by the reference (graph/dropoutMask.ts).
    const rows = dropoutRowKeys(this.options.seed, this.progress.stepsTaken + 1, this.progress.microBatches, batch.batch * batch.sequence);
    const threshold = keepThreshold(mode.dropout);
    const kept = Math.fround(1 / (1 - mode.dropout));
    for (let layer = 0; layer < this.model.config.numLayers; layer++) {
      for (const module of mode.targets) {
        const columns = dropoutColumnKeys(layer, TARGET_MODULES.indexOf(module), moduleShape(this.model.config, module).in);
        const keep = dropoutKeepMask(rows, columns, threshold);
        masks.set(loraKey(layer, module), Float32Array.from(keep, (k) => (k ? kept : 0)));
      }
    }
    return masks;
  }
}

function gradientOf(grads: Gradients<Tensor>, t: TrainableTensor): Tensor {
  const g = t.lora ? grads.lora.get(loraKey(t.lora.layer, t.lora.module))?.[t.lora.which] : grads.weights.get(t.name);
  if (!g) throw new Error(`TfjsStepRunner: the backward gave no gradient for ${t.name}`);
  return g;
}

/** A tensor's values on the host, as an array of its own (a backend may hand back its backing store). */
async function hostCopy(t: Tensor): Promise<Float32Array> {
  return Float32Array.from((await t.data()) as Float32Array);
}

/** Disposes the tensors of `previous` that `next` does not hold on to (an accumulation step keeps the tensors and moments). */
function disposeReplaced(previous: readonly Slot[], next: readonly Slot[]): void {
  const kept = new Set(next.flatMap((s) => [s.param, s.firstMoment, s.secondMoment, s.gradSum]));
  for (const s of previous) {
    for (const t of [s.param, s.firstMoment, s.secondMoment, s.gradSum]) if (!kept.has(t)) t.dispose();
  }
}


/**
 * TensorFlow reports running out of GPU memory as "OOM when allocating tensor …" (ResourceExhausted); the training
 * job's retry with a smaller micro-batch (trainJob.ts `isOutOfMemory`) looks for "out of memory", so say it.
 */
function engineError(error: unknown): unknown {
  const message = error instanceof Error ? error.message : String(error);
  if (/OOM when allocating|resource ?exhausted/i.test(message) && !/out of memory/i.test(message)) return new Error(`TensorFlow ran out of memory: ${message}`);
  return error;
}
