/**
 * The model as the rest of Tailor sees it: a Llama-family configuration, weights by their Hugging Face names, and
 * LoRA tensors by PEFT's names. Shared by the model loader, the graph builders, the engine, the trainer and the
 * GGUF exporter; plain data and interfaces only.
 */

/** Hugging Face architectures of the Llama family that Tailor runs (SmolLM and DeepSeek-Coder v1 are `llama`). */
export type Architecture = 'llama' | 'qwen2' | 'mistral';

export interface RopeScaling {
  /** Hugging Face `rope_scaling.rope_type` (or `type`): "linear", "dynamic", "llama3" or "yarn". */
  type: 'linear' | 'dynamic' | 'llama3' | 'yarn';
  factor: number;
  originalMaxPositionEmbeddings?: number;
  /** llama3 only. */
  lowFreqFactor?: number;
  highFreqFactor?: number;
  /** yarn only: `beta_fast` (default 32), `beta_slow` (default 1), and `attention_factor`, `mscale`,
   * `mscale_all_dim` when written (Transformers derives the attention factor from them). */
  betaFast?: number;
  betaSlow?: number;
  attentionFactor?: number;
  mscale?: number;
  mscaleAllDim?: number;
}

/** Everything the graph needs from `config.json`, normalised and checked. */
export interface ModelConfig {
  architecture: Architecture;
  /** `config.json` `model_type` as written. */
  modelType: string;
  hiddenSize: number;
  numLayers: number;
  numHeads: number;
  numKvHeads: number;
  /** `head_dim`, or hidden_size / num_attention_heads. */
  headDim: number;
  intermediateSize: number;
  rmsNormEps: number;
  ropeTheta: number;
  ropeScaling: RopeScaling | null;
  vocabSize: number;
  tieWordEmbeddings: boolean;
  /** Bias on q, k and v projections (Qwen2; Llama with `attention_bias`). */
  attentionBias: boolean;
  /** Bias on o_proj too: Llama's `attention_bias` puts one on all four projections (Qwen2 has none on o_proj).
   * Absent means false. */
  outputBias?: boolean;
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** `torch_dtype` as written, informative only. */
  torchDtype: string | null;
  /** Sliding-window attention span when the config turns it on (Mistral's `sliding_window`, Qwen2's
   * `use_sliding_window`); absent or null means full causal attention. Contexts shorter than it are unaffected. */
  slidingWindow?: number | null;
}

/** The fill-in-the-middle token families Tailor knows (see tokenizer.ts). */
export type FimStyle = 'qwen' | 'starcoder' | 'deepseek' | 'codellama';

/** Element types Tailor reads from safetensors. */
export type DType = 'F32' | 'F16' | 'BF16';

export interface TensorInfo {
  name: string;
  dtype: DType;
  shape: number[];
}

/**
 * Read access to a model's weights by Hugging Face name (`model.layers.0.self_attn.q_proj.weight`, shape
 * [out, in] as PyTorch stores it). Implementations read lazily from safetensors files.
 */
export interface WeightSource {
  names(): string[];
  has(name: string): boolean;
  info(name: string): TensorInfo;
  /** The tensor as float32, converted from F16/BF16 when needed. */
  float32(name: string): Float32Array;
}

/** The seven projections LoRA can target, by their Hugging Face module names. */
export const TARGET_MODULES = ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] as const;
export type TargetModule = (typeof TARGET_MODULES)[number];

/** Which block a target module lives in: `self_attn` or `mlp`. */
export function moduleBlock(module: TargetModule): 'self_attn' | 'mlp' {
  return module === 'gate_proj' || module === 'up_proj' || module === 'down_proj' ? 'mlp' : 'self_attn';
}

/** [out, in] of a target module's weight in this model. */
export function moduleShape(config: ModelConfig, module: TargetModule): { out: number; in: number } {
  const q = config.numHeads * config.headDim;
  const kv = config.numKvHeads * config.headDim;
  switch (module) {
    case 'q_proj':
      return { out: q, in: config.hiddenSize };
    case 'k_proj':
    case 'v_proj':
      return { out: kv, in: config.hiddenSize };
    case 'o_proj':
      return { out: config.hiddenSize, in: q };
    case 'gate_proj':
    case 'up_proj':
      return { out: config.intermediateSize, in: config.hiddenSize };
    case 'down_proj':
      return { out: config.hiddenSize, in: config.intermediateSize };
  }
}

/**
 * A LoRA adapter in memory. For layer N and module M the update is W' = W + scale · B·A with A [rank, in] and
 * B [out, rank] — PEFT's layout (`base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight`).
 */
export interface LoraAdapter {
  rank: number;
  alpha: number;
  /** alpha / rank, or alpha / sqrt(rank) with rsLoRA. */
  scale: number;
  targets: TargetModule[];
  /** Key `${layer}.${module}`. */
  tensors: Map<string, { a: Float32Array; b: Float32Array }>;
}
