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
  /** Bias on q, k and v projections (Qwen2). */
  attentionBias: boolean;
  maxPositionEmbeddings: number;
  bosTokenId: number | null;
  eosTokenIds: number[];
  /** `torch_dtype` as written, informative only. */
  torchDtype: string | null;
}

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
