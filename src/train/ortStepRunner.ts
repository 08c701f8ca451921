/**
 * `TrainStepRunner` on the engine: the training-step graph (graph/onnx/trainingGraph.ts) and, once validation asks
 * for it, the evaluation graph, each compiled once per model and mode into the graph cache and opened as a session.
 * The trainable tensors, AdamW's moments and the accumulated gradient sums are the graph's inputs and come back as
 * its outputs: on WebGPU they stay in device memory from one step to the next, on the CPU they are host arrays.
 *
 * LoRA tensors start as PEFT starts them (A Kaiming-uniform with a = √5, seeded; B zero); full training starts from
 * the model's weights. Dropout masks are drawn on the host from (seed, optimizer step, micro-batch, layer, module),
 * so a resumed run draws the same masks as an uninterrupted one.
 */
import { TailorError } from '../errors';
import { dropoutRowKeys } from '../graph/dropoutMask';
import { compileGraph } from '../graph/onnx/graphCache';
import { encodeModel } from '../graph/onnx/modelWriter';
import { OnnxGraph, type OnnxModelSpec } from '../graph/onnx/onnxGraph';
import { buildTrainingGraph, TRAINING_GRAPH_VERSION, trainableTensors, trainingNames as N, type TrainableTensor, type TrainingGraphMode, type TrainingGraphOptions } from '../graph/onnx/trainingGraph';
import { mixSeed } from '../hash';
import { TARGET_MODULES, type LoraAdapter, type ModelConfig, type WeightSource } from '../model/types';
import type { Engine, EngineSession, EngineTensor } from '../runtime/engine';
import { seededRandom } from '../serve/sampling';
import { AccumulationState, disposeSlots, type RunnerSlot, type LoraSettings, type OptimizerSettings, type StepResult, type TrainableState, type TrainBatch, type TrainingMode, type TrainStepRunner } from './stepRunner';

export interface StepRunnerModel {
  config: ModelConfig;
  weights: WeightSource;
  /** The model's fingerprint: the graph cache's key. */
  fingerprint: string;
}

export interface StepRunnerOptions {
  mode: TrainingMode;
  /** Rows and length of the micro-batches the trainer will send (the graphs take any; these are checked). */
  batch: number;
  sequence: number;
  /** Where compiled graphs are cached. */
  cacheDir: string;
  /** Seeds LoRA's A initialisation and the dropout masks. */
  seed: number;
}

/** alpha / rank, or alpha / sqrt(rank) with rsLoRA (PEFT's `use_rslora`). */
export function loraScale(lora: LoraSettings): number {
  return lora.rsLora ? lora.alpha / Math.sqrt(lora.rank) : lora.alpha / lora.rank;
}

/** The graph builder's mode for a training mode. */
export function graphMode(mode: TrainingMode): TrainingGraphMode {
  if (mode.kind === 'full') return { kind: 'full' };
  const { rank, dropout, targets } = mode.lora;
  return { kind: 'lora', rank, scale: loraScale(mode.lora), targets: [...targets], dropout };
}

/**
 * PEFT's initial A for a module with `inputs` features: kaiming_uniform_(a = √5), i.e. U(−1/√in, 1/√in), drawn from
 * (seed, layer, module) so that adding or removing a target leaves the others' initialisation alone.
 */
export function initialLoraA(seed: number, layer: number, moduleIndex: number, rank: number, inputs: number): Float32Array {
  const random = seededRandom(mixSeed(seed, 0x1a, layer, moduleIndex));
  const bound = 1 / Math.sqrt(inputs);
  return Float32Array.from({ length: rank * inputs }, () => (2 * random() - 1) * bound);
}

/** The LoRA settings a runner refuses, as errors the user can act on. */
export function checkTrainingMode(mode: TrainingMode): void {
  if (mode.kind !== 'lora') return;
  const { rank, dropout, targets } = mode.lora;
  if (!Number.isInteger(rank) || rank < 1) throw new TailorError('train/lora-rank', `The LoRA rank ${rank} is not a positive whole number.`, 'Set tailor.lora.rank to 1 or more.');
  if (!(dropout >= 0 && dropout < 1)) throw new TailorError('train/lora-dropout', `The LoRA dropout ${dropout} is outside [0, 1).`, 'Use a dropout such as 0.05.');
  if (targets.length === 0) throw new TailorError('train/lora-targets', 'No LoRA target modules are set.', 'Set tailor.lora.targetModules to at least one projection.');
}

/** A trainable tensor's first value: the model's weight (full), PEFT's A initialisation, or B = 0. */
export function initialTensor(weights: WeightSource, seed: number, t: TrainableTensor): Float32Array {
  if (!t.lora) return Float32Array.from(weights.float32(t.name));
  if (t.lora.which === 'b') return new Float32Array(tensorSize(t));
  return initialLoraA(seed, t.lora.layer, TARGET_MODULES.indexOf(t.lora.module), t.shape[0]!, t.shape[1]!);
}

/** The batch checks every runner makes: consistent sizes, within the runner's [batch, sequence], ids in the vocabulary. */
export function checkBatch(batch: TrainBatch, limits: { batch: number; sequence: number }, vocab: number): void {
  const n = batch.batch * batch.sequence;
  if (batch.batch < 1 || batch.sequence < 1 || batch.tokens.length !== n || batch.targets.length !== n || batch.lossMask.length !== n) {
    throw new Error(`TrainStepRunner: a batch of [${batch.batch}, ${batch.sequence}] needs ${n} tokens, targets and mask values (got ${batch.tokens.length}, ${batch.targets.length}, ${batch.lossMask.length})`);
  }
  if (batch.sequence > limits.sequence || batch.batch > limits.batch) {
    throw new Error(`TrainStepRunner: a batch of [${batch.batch}, ${batch.sequence}] is larger than the runner's [${limits.batch}, ${limits.sequence}]`);
  }
  for (let i = 0; i < n; i++) {
    const t = batch.tokens[i]!;
    if (t < 0 || t >= vocab) throw new Error(`TrainStepRunner: token id ${t} is outside the vocabulary (0–${vocab - 1})`);
  }
}

/** A checkpoint's values for one tensor (a copy), checked against the tensor's shape. */
export function checkpointValues(map: Map<string, Float32Array>, t: TrainableTensor, what: string): Float32Array {
  const values = map.get(t.name);
  if (!values) throw new TailorError('train/checkpoint-mismatch', `The checkpoint has no ${what} for ${t.name}.`, 'Start the training again without resuming.');
  if (values.length !== tensorSize(t)) {
    throw new TailorError('train/checkpoint-mismatch', `The checkpoint's ${what} for ${t.name} has ${values.length} values; this run needs [${t.shape.join(', ')}].`, 'Start the training again without resuming: the checkpoint was made with other settings.');
  }
  return Float32Array.from(values);
}

/** The LoRA adapter of a LoRA mode from its trainable tensors' values (in the order of `tensors`). */
export function loraAdapterOf(mode: TrainingMode, tensors: readonly TrainableTensor[], values: readonly Float32Array[]): LoraAdapter {
  if (mode.kind !== 'lora') throw new Error('TrainStepRunner.adapter: full training has no LoRA adapter; read state() instead.');
  const pairs = new Map<string, { a: Float32Array; b: Float32Array }>();
  tensors.forEach((t, i) => {
    const { layer, module, which } = t.lora!;
    const key = `${layer}.${module}`;
    const pair = pairs.get(key) ?? { a: new Float32Array(0), b: new Float32Array(0) };
    pair[which] = values[i]!;
    pairs.set(key, pair);
  });
  const { rank, alpha, targets } = mode.lora;
  return { rank, alpha, scale: loraScale(mode.lora), targets: [...targets], tensors: pairs };
}

export async function createStepRunner(engine: Engine, model: StepRunnerModel, options: StepRunnerOptions): Promise<TrainStepRunner> {
  const { config } = model;
  checkTrainingMode(options.mode);
  const mode = graphMode(options.mode);
  const tensors = trainableTensors(config, model.weights, mode);
  const step = await openGraph(engine, model, options.cacheDir, { mode, purpose: 'step', ...half(engine) }, tensors);
  return new OrtStepRunner(engine, model, options, mode, tensors, step);
}

/** Float16 frozen projections where the engine computes in half precision (graph/onnx/onnxOps.ts). */
function half(engine: Engine): Pick<TrainingGraphOptions, 'halfProjections'> {
  return engine.halfPrecision ? { halfProjections: true } : {};
}

async function openGraph(engine: Engine, model: StepRunnerModel, cacheDir: string, graphOptions: TrainingGraphOptions, tensors: readonly TrainableTensor[]): Promise<EngineSession> {
  const compiled = await compileGraph({
    cacheDir,
    kind: graphOptions.purpose === 'evaluate' ? 'evaluate' : 'train-step',
    fingerprint: model.fingerprint,
    builderVersion: TRAINING_GRAPH_VERSION,
    options: graphOptions,
    build: () => buildTrainingGraph(model.config, model.weights, graphOptions, { 'tailor.model_fingerprint': model.fingerprint }),
  });
  // The state the next step reads stays on the device; the scalars come back to the host.
  const keepOnDevice =
    engine.provider === 'webgpu' && graphOptions.purpose !== 'evaluate'
      ? tensors.flatMap((t) => [N.updated(t.name), N.updated(N.firstMoment(t.name)), N.updated(N.secondMoment(t.name)), N.updated(N.gradSum(t.name))])
      : [];
  // Memory pattern off: bench/train measured peak memory 1,046 → 612 MiB (LoRA) and 1,383 → 930 MiB (full) at the
  // same speed on the V8192/d256/4-layer model, batch 8 × 256.
  return engine.createSession({ path: compiled.modelPath }, { keepOnDevice, memoryPattern: false });
}

type Slot = RunnerSlot<EngineTensor>;

class OrtStepRunner implements TrainStepRunner {
  readonly trainableNames: readonly string[];
  private slots: Slot[];
  private readonly progress = new AccumulationState();
  private evaluation: Promise<EngineSession> | null = null;
  private readBack: Promise<EngineSession> | null = null;
  private disposed = false;

  constructor(
    private readonly engine: Engine,
    private readonly model: StepRunnerModel,
    private readonly options: StepRunnerOptions,
    private readonly graphMode: TrainingGraphMode,
    tensors: readonly TrainableTensor[],
    private readonly session: EngineSession,
  ) {
    this.trainableNames = tensors.map((t) => t.name);
    this.slots = tensors.map((t) => this.slot(t, this.initialValues(t), new Float32Array(tensorSize(t)), new Float32Array(tensorSize(t))));
  }

  get mode(): TrainingMode {
    return this.options.mode;
  }

  async step(batch: TrainBatch, optimizer: OptimizerSettings, apply: boolean): Promise<StepResult> {
    this.check(batch);
    const feeds = this.batchFeeds(batch);
    const scalar = (v: number) => this.engine.tensor('float32', Float32Array.of(v), []);
    for (const s of this.slots) {
      feeds[s.tensor.name] = s.param;
      feeds[N.firstMoment(s.tensor.name)] = s.firstMoment;
      feeds[N.secondMoment(s.tensor.name)] = s.secondMoment;
      feeds[N.gradSum(s.tensor.name)] = s.gradSum;
    }
    Object.assign(feeds, this.dropoutFeeds(batch));
    feeds[N.accumulatedTokens] = scalar(this.progress.accumulatedTokens);
    feeds[N.apply] = this.engine.tensor('bool', Uint8Array.of(apply ? 1 : 0), []);
    feeds[N.step] = scalar(this.progress.stepsTaken + 1);
    feeds[N.learningRate] = scalar(optimizer.learningRate);
    feeds[N.beta1] = scalar(optimizer.beta1);
    feeds[N.beta2] = scalar(optimizer.beta2);
    feeds[N.epsilon] = scalar(optimizer.epsilon);
    feeds[N.weightDecay] = scalar(optimizer.weightDecay);
    feeds[N.maxGradNorm] = scalar(optimizer.maxGradNorm);

    const out = await this.session.run(feeds);
    const previous = this.slots;
    this.slots = previous.map((s) => ({
      tensor: s.tensor,
      param: out[N.updated(s.tensor.name)]!,
      firstMoment: out[N.updated(N.firstMoment(s.tensor.name))]!,
      secondMoment: out[N.updated(N.secondMoment(s.tensor.name))]!,
      gradSum: out[N.updated(N.gradSum(s.tensor.name))]!,
    }));
    disposeSlots(previous);

    const lossSum = readScalar(out[N.lossSum]!);
    const tokens = readScalar(out[N.tokensCounted]!);
    const gradNorm = readScalar(out[N.gradNorm]!);
    this.progress.record(apply, tokens);
    return { loss: tokens > 0 ? lossSum / tokens : 0, gradNorm, tokens };
  }

  async evaluate(batch: TrainBatch): Promise<{ lossSum: number; tokens: number }> {
    this.check(batch);
    this.evaluation ??= openGraph(this.engine, this.model, this.options.cacheDir, { mode: this.graphMode, purpose: 'evaluate', ...half(this.engine) }, []);
    const session = await this.evaluation;
    const feeds = this.batchFeeds(batch);
    for (const s of this.slots) feeds[s.tensor.name] = s.param;
    const out = await session.run(feeds);
    return { lossSum: readScalar(out[N.lossSum]!), tokens: readScalar(out[N.tokensCounted]!) };
  }

  async state(): Promise<TrainableState> {
    const host = await this.hostCopies();
    const read = (pick: (c: HostSlot) => Float32Array) => new Map(this.slots.map((s, i) => [s.tensor.name, pick(host[i]!)]));
    return { step: this.progress.stepsTaken, tensors: read((c) => c.param), firstMoments: read((c) => c.firstMoment), secondMoments: read((c) => c.secondMoment) };
  }

  async restore(state: TrainableState): Promise<void> {
    const pick = checkpointValues;
    const next = this.slots.map((s) => this.slot(s.tensor, pick(state.tensors, s.tensor, 'tensor'), pick(state.firstMoments, s.tensor, 'first moment'), pick(state.secondMoments, s.tensor, 'second moment')));
    disposeSlots(this.slots);
    this.slots = next;
    this.progress.restart(state.step);
  }

  async adapter(): Promise<LoraAdapter> {
    const host = await this.hostCopies();
    return loraAdapterOf(this.options.mode, this.slots.map((s) => s.tensor), host.map((h) => h.param));
  }

  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    disposeSlots(this.slots);
    await this.session.dispose();
    if (this.evaluation) await (await this.evaluation).dispose();
    if (this.readBack) await (await this.readBack).dispose();
  }

  /**
   * Host copies of every slot's tensor and moments. On the CPU they are the arrays themselves (copied); tensors in
   * WebGPU memory go through a session of Identity nodes whose outputs come back to the host, because
   * onnxruntime-node cannot download a gpu-buffer tensor by itself (its `getData` aborts the process).
   */
  private async hostCopies(): Promise<HostSlot[]> {
    const onDevice = this.slots.some((s) => s.param.location !== 'cpu' || s.firstMoment.location !== 'cpu' || s.secondMoment.location !== 'cpu');
    if (!onDevice) {
      return this.slots.map((s) => ({ param: Float32Array.from(s.param.data as Float32Array), firstMoment: Float32Array.from(s.firstMoment.data as Float32Array), secondMoment: Float32Array.from(s.secondMoment.data as Float32Array) }));
    }
    this.readBack ??= this.engine.createSession({ bytes: encodeModel(readBackGraph(this.slots.map((s) => s.tensor))) });
    const session = await this.readBack;
    const feeds: Record<string, EngineTensor> = {};
    this.slots.forEach((s, i) => {
      feeds[`p${i}`] = s.param;
      feeds[`m${i}`] = s.firstMoment;
      feeds[`v${i}`] = s.secondMoment;
    });
    const out = await session.run(feeds);
    return this.slots.map((_, i) => ({ param: out[`p${i}.host`]!.data as Float32Array, firstMoment: out[`m${i}.host`]!.data as Float32Array, secondMoment: out[`v${i}.host`]!.data as Float32Array }));
  }

  private initialValues(t: TrainableTensor): Float32Array {
    return initialTensor(this.model.weights, this.options.seed, t);
  }

  private slot(t: TrainableTensor, param: Float32Array, firstMoment: Float32Array, secondMoment: Float32Array): Slot {
    const tensor = (values: Float32Array) => this.engine.tensor('float32', values, t.shape);
    return { tensor: t, param: tensor(param), firstMoment: tensor(firstMoment), secondMoment: tensor(secondMoment), gradSum: tensor(new Float32Array(tensorSize(t))) };
  }

  private check(batch: TrainBatch): void {
    if (this.disposed) throw new Error('TrainStepRunner: used after dispose()');
    checkBatch(batch, this.options, this.model.config.vocabSize);
  }

  private batchFeeds(batch: TrainBatch): Record<string, EngineTensor> {
    const dims = [batch.batch, batch.sequence];
    return {
      [N.tokens]: this.engine.tensor('int64', BigInt64Array.from(batch.tokens, (v) => BigInt(v)), dims),
      [N.targets]: this.engine.tensor('int64', BigInt64Array.from(batch.targets, (v) => BigInt(v)), dims),
      [N.lossMask]: this.engine.tensor('float32', batch.lossMask, dims),
    };
  }

  /** LoRA dropout's row keys for this micro-batch: the graph draws the keep-masks from them on the device. */
  private dropoutFeeds(batch: TrainBatch): Record<string, EngineTensor> {
    const mode = this.graphMode;
    if (mode.kind !== 'lora' || mode.dropout === 0) return {};
    const rows = dropoutRowKeys(this.options.seed, this.progress.stepsTaken + 1, this.progress.microBatches, batch.batch * batch.sequence);
    return { [N.dropoutRows]: this.engine.tensor('uint32', rows, [batch.batch, batch.sequence]) };
  }
}

/** Elements of a trainable tensor. */
export function tensorSize(t: TrainableTensor): number {
  return t.shape.reduce((a, b) => a * b, 1);
}

interface HostSlot {
  param: Float32Array;
  firstMoment: Float32Array;
  secondMoment: Float32Array;
}

/** Identity for every slot's tensor and moments: run on WebGPU, its outputs are copies on the host. */
function readBackGraph(tensors: readonly TrainableTensor[]): OnnxModelSpec {
  const graph = new OnnxGraph();
  tensors.forEach((t, i) => {
    for (const prefix of ['p', 'm', 'v']) graph.output(graph.input(`${prefix}${i}`, 'float32', t.shape), `${prefix}${i}.host`);
  });
  return graph.spec({ graphName: 'tailor_read_back' });
}

/** A scalar output (never left on the device). */
function readScalar(t: EngineTensor): number {
  return (t.data as Float32Array)[0]!;
}

