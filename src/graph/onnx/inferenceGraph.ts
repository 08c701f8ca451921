/**
 * The inference graph: the Llama forward lowered to ONNX with a KV cache and a LoRA branch on every target module.
 *
 *   inputs   input_ids                       [batch, sequence] int64
 *            past_key_values.N.key / .value  [batch, kvHeads, past_sequence, headDim]
 *            lora.N.M.a                      [lora_rank_N_M, in]   (rank 0: no adapter on that module)
 *            lora.N.M.b                      [out, lora_rank_N_M]
 *            lora_scale                      [] float
 *   outputs  logits                          [batch, sequence or 1, vocab]
 *            present.N.key / .value          [batch, kvHeads, total_sequence, headDim]
 *
 * An adapter is fed, never built in: one session serves the base model (rank 0 or B = 0) and any adapter.
 */
import { moduleShape, TARGET_MODULES, type ModelConfig, type TargetModule, type WeightSource } from '../../model/types';
import { llamaForward, loraKey, type KvPair, type LoraPair } from '../llama';
import { OnnxGraph, type OnnxModelSpec, type OnnxValue } from './onnxGraph';
import { OnnxOps } from './onnxOps';

/** Bump whenever the emitted graph changes: compiled graphs cached on disk are keyed by it. */
export const INFERENCE_GRAPH_VERSION = 2;

export interface InferenceGraphOptions {
  /** 'last' (decoding): logits of the last position only. Default 'all'. */
  logits?: 'all' | 'last';
  /** Modules that get LoRA inputs in every layer. Default: all seven. */
  loraTargets?: readonly TargetModule[];
  /** Frozen projections in float16 (onnxOps.ts). Default false. */
  halfProjections?: boolean;
}

export interface InferenceGraphNames {
  inputIds: string;
  pastKey(layer: number): string;
  pastValue(layer: number): string;
  loraA(layer: number, module: TargetModule): string;
  loraB(layer: number, module: TargetModule): string;
  loraScale: string;
  logits: string;
  presentKey(layer: number): string;
  presentValue(layer: number): string;
}

export const inferenceNames: InferenceGraphNames = {
  inputIds: 'input_ids',
  pastKey: (n) => `past_key_values.${n}.key`,
  pastValue: (n) => `past_key_values.${n}.value`,
  loraA: (n, m) => `lora.${n}.${m}.a`,
  loraB: (n, m) => `lora.${n}.${m}.b`,
  loraScale: 'lora_scale',
  logits: 'logits',
  presentKey: (n) => `present.${n}.key`,
  presentValue: (n) => `present.${n}.value`,
};

export function buildInferenceGraph(config: ModelConfig, weights: WeightSource, options: InferenceGraphOptions = {}, metadata: Record<string, string> = {}): OnnxModelSpec {
  const graph = new OnnxGraph();
  const ops = new OnnxOps(graph, weights, { halfProjections: options.halfProjections === true });
  const names = inferenceNames;
  const kvShape = (seq: string) => ['batch', config.numKvHeads, seq, config.headDim];

  const inputIds = graph.input(names.inputIds, 'int64', ['batch', 'sequence']);
  const past: KvPair<OnnxValue>[] = [];
  for (let n = 0; n < config.numLayers; n++) {
    past.push({ key: graph.input(names.pastKey(n), 'float32', kvShape('past_sequence')), value: graph.input(names.pastValue(n), 'float32', kvShape('past_sequence')) });
  }
  const targets = options.loraTargets ?? TARGET_MODULES;
  const modules = new Map<string, LoraPair<OnnxValue>>();
  for (let n = 0; n < config.numLayers; n++) {
    for (const m of targets) {
      const { out, in: inner } = moduleShape(config, m);
      const rank = `lora_rank_${n}_${m}`;
      modules.set(loraKey(n, m), { a: graph.input(names.loraA(n, m), 'float32', [rank, inner]), b: graph.input(names.loraB(n, m), 'float32', [out, rank]) });
    }
  }
  const scale = graph.input(names.loraScale, 'float32', []);

  const out = llamaForward(ops, config, { inputIds, past, lora: modules.size ? { scale, modules } : null }, { logits: options.logits ?? 'all' });

  graph.output(out.logits, names.logits, ['batch', options.logits === 'last' ? 1 : 'sequence', config.vocabSize]);
  out.present.forEach((p, n) => {
    graph.output(p.key, names.presentKey(n), kvShape('total_sequence'));
    graph.output(p.value, names.presentValue(n), kvShape('total_sequence'));
  });
  return graph.spec({
    graphName: 'tailor_llama_inference',
    metadata: { 'tailor.graph': 'inference', 'tailor.graph_version': String(INFERENCE_GRAPH_VERSION), ...metadata },
    docString: `Llama-family inference graph (${config.modelType}, ${config.numLayers} layers) with KV cache and LoRA inputs.`,
  });
}
