#!/usr/bin/env python3
"""PyTorch + PEFT side of the GPU benchmark (bench/gpu/README.md), on CUDA.

The same model shape, LoRA settings, optimizer and seeded token ids as Tailor's side (bench/gpu/shapes.json;
tailor-gpu.mjs), with what a PyTorch user would write:
  - model: transformers' Qwen2Config + Qwen2ForCausalLM, built on the GPU (seeded random init); with --model-dir, the
    weights Tailor's side generated (model.safetensors) are loaded into it, so the first-step losses of the two sides
    can be compared (both start with LoRA B = 0, so the first loss is the base model's whatever A is);
  - training: peft.get_peft_model(LoraConfig(r, lora_alpha, lora_dropout, target_modules)), torch.optim.AdamW on the
    LoRA parameters (lr, betas, eps, weight decay as Tailor's trainer), forward, cross-entropy over every position
    (logits in float32), backward, clip_grad_norm_(1.0), step, zero_grad; float32 (TF32 off: the figure comparable
    to Tailor's float32; torch.set_float32_matmul_precision("highest")), and labelled extra rows with bf16 autocast
    and with TF32 matmuls ("high");
    tokens/s = batch x sequence / median step time, each step timed with torch.cuda.synchronize();
  - decode: model.generate, greedy, eager (no torch.compile, no CUDA graphs), the KV cache on (DynamicCache), the
    `prompt`-token prompt then `decode` tokens: decode time = time(generate prompt + decode + 1 tokens) - time
    (generate 1 token), i.e. the `decode` single-token steps after the prompt's forward, as Tailor's side measures.
    With the adapter just trained (PEFT, unmerged: as Tailor serves it), the base model (adapter disabled), and, as an
    extra row, the PEFT model cast to bfloat16.

  python3 bench/gpu/torch_peft.py [--shape qwen2.5-0.5b] [--model-dir DIR] [--out FILE] [--warmup 3] [--steps 10]
      [--train-seconds 20] [--modes defaults,nodropout] [--precisions f32,bf16,tf32] [--decode-repeat 3]
      [--budget-seconds 170] [--device cuda]

Writes one JSON object (--out; rewritten after every run, so a time limit still leaves what was measured) and logs
on stderr.
"""
import argparse
import gc
import json
import os
import statistics
import sys
import time
import traceback

HERE = os.path.dirname(os.path.abspath(__file__))
START = time.perf_counter()


def log(message):
    sys.stderr.write(f"[torch {time.perf_counter() - START:.1f}s] {message}\n")
    sys.stderr.flush()


def random_ids(count, vocab, seed):
    """`count` seeded ids in [0, vocab): the xorshift32 of bench/gpu/shapes.mjs."""
    out = [0] * count
    s = (seed & 0xFFFFFFFF) or 1
    for i in range(count):
        s ^= (s << 13) & 0xFFFFFFFF
        s ^= s >> 17
        s ^= (s << 5) & 0xFFFFFFFF
        out[i] = s % vocab
    return out


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--shape", default="qwen2.5-0.5b")
    parser.add_argument("--model-dir", default=None)
    parser.add_argument("--out", default=None)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--train-seconds", type=float, default=20)
    parser.add_argument("--modes", default="defaults,nodropout")
    parser.add_argument("--precisions", default="f32,bf16,tf32")
    parser.add_argument("--decode-repeat", type=int, default=3)
    parser.add_argument("--budget-seconds", type=float, default=170)
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--batch", type=int, default=None)
    parser.add_argument("--sequence", type=int, default=None)
    args = parser.parse_args()

    with open(os.path.join(HERE, "shapes.json")) as f:
        spec = json.load(f)
    shape = spec["shapes"][args.shape]
    m = shape["model"]
    batch = args.batch or shape["batch"]
    sequence = args.sequence or shape["sequence"]
    prompt_len = shape["prompt"]
    decode_len = shape["decode"]
    opt_settings = spec["optimizer"]
    modes = [x for x in args.modes.split(",") if x]
    precisions = [x for x in args.precisions.split(",") if x]

    report = {
        "side": "pytorch",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "settings": {"shape": args.shape, "batch": batch, "sequence": sequence, "warmup": args.warmup, "steps": args.steps, "trainSeconds": args.train_seconds,
                     "modes": modes, "precisions": precisions, "prompt": prompt_len, "decode": decode_len, "decodeRepeat": args.decode_repeat, "optimizer": opt_settings},
        "model": {"shape": args.shape, "options": m},
        "train": {},
        "decode": {},
        "errors": [],
    }

    def save():
        report["elapsedSeconds"] = round(time.perf_counter() - START, 1)
        if args.out:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            with open(args.out, "w") as f:
                json.dump(report, f, indent=2)
                f.write("\n")

    def left():
        return args.budget_seconds - (time.perf_counter() - START)

    def failed(where, error):
        message = f"{type(error).__name__}: {error}"
        report["errors"].append({"phase": where, "error": message, "trace": traceback.format_exc()})
        log(f"{where} FAILED: {message}")
        save()

    save()
    try:
        import torch
        import torch.nn.functional as F
        import transformers
        import peft
        from transformers import Qwen2Config, Qwen2ForCausalLM
        from peft import LoraConfig, get_peft_model
    except Exception as error:  # noqa: BLE001
        failed("import", error)
        return 1

    device = torch.device(args.device)
    cuda = device.type == "cuda"
    report["versions"] = {"python": sys.version.split()[0], "torch": torch.__version__, "cuda": torch.version.cuda, "transformers": transformers.__version__, "peft": peft.__version__}
    if cuda:
        props = torch.cuda.get_device_properties(device)
        report["gpu"] = {"name": props.name, "memoryGiB": round(props.total_memory / 2**30, 1), "multiprocessors": props.multi_processor_count, "capability": f"{props.major}.{props.minor}"}
    log(f"torch {torch.__version__} (CUDA {torch.version.cuda}), transformers {transformers.__version__}, peft {peft.__version__}, device {report.get('gpu', {}).get('name', args.device)}")

    def sync():
        if cuda:
            torch.cuda.synchronize(device)

    # --- the model -----------------------------------------------------------------------------------------------
    import inspect
    config_kwargs = dict(
        vocab_size=m["vocabSize"], hidden_size=m["hiddenSize"], intermediate_size=m["intermediateSize"], num_hidden_layers=m["numLayers"],
        num_attention_heads=m["numHeads"], num_key_value_heads=m["numKvHeads"], max_position_embeddings=m["maxPositionEmbeddings"],
        rms_norm_eps=1e-6, tie_word_embeddings=m["tieWordEmbeddings"], use_sliding_window=False, hidden_act="silu", attention_dropout=0.0, use_cache=True,
    )
    init_params = inspect.signature(Qwen2Config.__init__).parameters
    if "head_dim" in init_params:
        config_kwargs["head_dim"] = m["headDim"]
    if "rope_parameters" in init_params:  # transformers 5: rope_theta lives in rope_parameters
        config_kwargs["rope_parameters"] = {"rope_type": "default", "rope_theta": float(m["ropeTheta"])}
    else:
        config_kwargs["rope_theta"] = float(m["ropeTheta"])
    config = Qwen2Config(**config_kwargs)
    rope_theta = (getattr(config, "rope_parameters", None) or {}).get("rope_theta", getattr(config, "rope_theta", None))
    if rope_theta is None or abs(float(rope_theta) - float(m["ropeTheta"])) > 1e-3:
        raise SystemExit(f"the config's rope theta is {rope_theta}, not {m['ropeTheta']}")
    report["model"]["ropeTheta"] = rope_theta

    weights_file = os.path.join(args.model_dir, "model.safetensors") if args.model_dir else None
    state = None
    if weights_file and os.path.exists(weights_file):
        from safetensors.torch import load_file
        t = time.perf_counter()
        state = load_file(weights_file, device=str(device))
        log(f"weights: {len(state)} tensors from {weights_file} ({time.perf_counter() - t:.1f} s)")
        report["model"]["weights"] = f"Tailor's generated model ({weights_file}): the same weights as Tailor's side"
    else:
        report["model"]["weights"] = "random init (seed 0): Tailor's model folder was not found, so the first losses are not comparable"
        if weights_file:
            log(f"weights: {weights_file} not found: random init")

    def build_base():
        torch.manual_seed(0)
        if hasattr(torch.device, "__enter__"):  # torch >= 2.0: built on the GPU, no host round trip
            with torch.device(device):
                model = Qwen2ForCausalLM(config)
        else:
            model = Qwen2ForCausalLM(config)
        model.to(device=device, dtype=torch.float32)
        if state is not None:
            missing, unexpected = model.load_state_dict(state, strict=False)
            missing = [k for k in missing if k != "lm_head.weight"]
            if missing or unexpected:
                raise RuntimeError(f"weights do not fit the model: missing {missing[:5]}, unexpected {unexpected[:5]}")
        if m["tieWordEmbeddings"] and model.lm_head.weight.data_ptr() != model.model.embed_tokens.weight.data_ptr():
            model.lm_head.weight = model.model.embed_tokens.weight
            report["model"]["tiedByHand"] = True
            log("lm_head was not tied to the embeddings: tied by hand")
        report["model"]["parameters"] = sum(p.numel() for p in model.parameters())
        report["model"]["attention"] = getattr(model.config, "_attn_implementation", None)
        return model

    def lora_config(mode):
        lora = dict(spec["lora"])
        lora["dropout"] = spec["modes"][mode]["dropout"]
        return LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=lora["dropout"], target_modules=list(lora["targets"]), bias="none", task_type="CAUSAL_LM", use_rslora=lora["rsLora"]), lora

    # token ids of every step: rows of sequence + 1 (tokens, then targets shifted by one), as Tailor's side draws them
    total_steps = args.warmup + args.steps
    ids = torch.tensor(random_ids(total_steps * batch * (sequence + 1), m["vocabSize"], spec["batchSeed"]), dtype=torch.long).view(total_steps, batch, sequence + 1).to(device)
    prompt = torch.tensor([random_ids(prompt_len, m["vocabSize"], spec["promptSeed"])], dtype=torch.long, device=device)

    kept = {}

    def train(mode, precision):
        key = f"{mode}:{precision}"
        torch.set_float32_matmul_precision("high" if precision == "tf32" else "highest")
        label = {"f32": "float32 (TF32 off)", "bf16": "bf16 autocast, float32 weights (extra: not Tailor's precision)", "tf32": "float32 with TF32 matmuls (extra: not Tailor's precision)"}[precision]
        lcfg, lora = lora_config(mode)
        result = {"mode": mode, "precision": precision, "label": f"{spec['modes'][mode]['label']}, {label}", "float32MatmulPrecision": torch.get_float32_matmul_precision(), "lora": lora, "batch": batch, "sequence": sequence, "tokensPerStep": batch * sequence, "warmup": [], "steps": []}
        report["train"][key] = result
        t = time.perf_counter()
        model = get_peft_model(build_base(), lcfg)
        model.train()
        params = [p for p in model.parameters() if p.requires_grad]
        result["trainableParameters"] = sum(p.numel() for p in params)
        optimizer = torch.optim.AdamW(params, lr=opt_settings["learningRate"], betas=(opt_settings["beta1"], opt_settings["beta2"]), eps=opt_settings["epsilon"], weight_decay=opt_settings["weightDecay"])
        result["optimizer"] = type(optimizer).__name__ + (" (foreach)" if optimizer.defaults.get("foreach") in (None, True) else "")
        sync()
        result["buildSeconds"] = round(time.perf_counter() - t, 2)
        if cuda:
            torch.cuda.reset_peak_memory_stats(device)

        def step(index):
            row = ids[index]
            tokens, targets = row[:, :-1], row[:, 1:]
            sync()
            t0 = time.perf_counter()
            if precision == "bf16":
                with torch.autocast(device_type=device.type, dtype=torch.bfloat16):
                    logits = model(input_ids=tokens).logits
            else:
                logits = model(input_ids=tokens).logits
            loss = F.cross_entropy(logits.float().reshape(-1, logits.shape[-1]), targets.reshape(-1))
            loss.backward()
            grad_norm = torch.nn.utils.clip_grad_norm_(params, opt_settings["maxGradNorm"])
            optimizer.step()
            optimizer.zero_grad(set_to_none=True)
            loss_value = loss.item()
            sync()
            return {"index": index, "ms": round((time.perf_counter() - t0) * 1000, 2), "loss": loss_value, "gradNorm": float(grad_norm)}

        index = 0
        for _ in range(args.warmup):
            s = step(index)
            index += 1
            result["warmup"].append(s)
            log(f"train {key}: warm-up step {s['index']}: {s['ms']:.0f} ms, loss {s['loss']:.5f}")
        t_measure = time.perf_counter()
        for _ in range(args.steps):
            s = step(index)
            index += 1
            result["steps"].append(s)
            spent = time.perf_counter() - t_measure
            if len(result["steps"]) >= 3 and (spent > args.train_seconds or left() < 30):
                result["stoppedEarly"] = f"after {len(result['steps'])} measured steps"
                break
        ms = [s["ms"] for s in result["steps"]]
        med = statistics.median(ms)
        allsteps = result["warmup"] + result["steps"]
        result["figures"] = {
            "tokensPerSecond": round(batch * sequence * 1000 / med),
            "msPerStep": round(med, 1),
            "msPerStepMin": round(min(ms), 1),
            "msPerStepMax": round(max(ms), 1),
            "measuredSteps": len(ms),
            "firstLoss": allsteps[0]["loss"],
            "firstGradNorm": allsteps[0]["gradNorm"],
            "lastLoss": allsteps[-1]["loss"],
            "peakMemoryGiB": round(torch.cuda.max_memory_allocated(device) / 2**30, 2) if cuda else None,
        }
        log(f"train {key}: {result['figures']['tokensPerSecond']} tokens/s (median {med:.1f} ms/step over {len(ms)} steps), first loss {allsteps[0]['loss']:.5f}, peak {result['figures']['peakMemoryGiB']} GiB")
        save()
        if key == f"{modes[0]}:f32":
            kept["model"] = model
        else:
            del model, optimizer, params
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()

    def generate_ms(model, new_tokens):
        sync()
        t0 = time.perf_counter()
        out = model.generate(input_ids=prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=new_tokens, min_new_tokens=new_tokens, do_sample=False, num_beams=1, use_cache=True, pad_token_id=0)
        sync()
        ms = (time.perf_counter() - t0) * 1000
        if out.shape[1] != prompt_len + new_tokens:
            raise RuntimeError(f"generate returned {out.shape[1] - prompt_len} new tokens, not {new_tokens}")
        return ms, out[0, prompt_len:prompt_len + 8].tolist()

    def decode(key, label, model, context=None):
        import contextlib
        runs = []
        with torch.no_grad(), (context() if context else contextlib.nullcontext()):
            generate_ms(model, 3)  # warm-up
            for _ in range(args.decode_repeat):
                first_ms, _ = generate_ms(model, 1)
                whole_ms, first_tokens = generate_ms(model, decode_len + 1)
                runs.append({"prefillMs": round(first_ms, 2), "wholeMs": round(whole_ms, 2), "decodeMs": round(whole_ms - first_ms, 2), "firstTokens": first_tokens})
                log(f"decode ({key}): 1 token in {first_ms:.0f} ms, {decode_len + 1} in {whole_ms:.0f} ms: {decode_len} tokens in {whole_ms - first_ms:.0f} ms ({decode_len * 1000 / (whole_ms - first_ms):.1f} tokens/s)")
                if left() < 15:
                    break
        dm = statistics.median(r["decodeMs"] for r in runs)
        pm = statistics.median(r["prefillMs"] for r in runs)
        report["decode"][key] = {"label": label, "runs": runs, "figures": {"decodeTokensPerSecond": round(decode_len * 1000 / dm, 1), "msPerToken": round(dm / decode_len, 2), "prefillMs": round(pm, 1), "prefillTokensPerSecond": round(prompt_len * 1000 / pm)}}
        save()

    def run_decodes():
        model = kept.get("model")
        if model is None:
            raise RuntimeError("no trained PEFT model to decode with (the first training run failed)")
        torch.set_float32_matmul_precision("highest")
        model.eval()
        decode("f32:adapter", f"float32, the trained adapter (r{spec['lora']['rank']}, PEFT, unmerged), eager generate", model)
        decode("f32:base", "float32, the base model (adapter disabled), eager generate", model, model.disable_adapter)
        if "bf16" in precisions and left() > 30:
            model.to(torch.bfloat16)
            decode("bf16:adapter", "bfloat16 weights, the trained adapter (PEFT, unmerged), eager generate (extra: not Tailor's precision)", model)
        del kept["model"]
        gc.collect()
        if cuda:
            torch.cuda.empty_cache()

    # Headline first (defaults, float32), then decode, then the extra rows while the budget lasts.
    plan = [("train", modes[0], "f32")] + [("train", modes[0], p) for p in precisions if p == "bf16"] + [("decode", None, None)]
    plan += [("train", mode, p) for mode in modes[1:] for p in precisions if p in ("f32", "bf16")]
    plan += [("train", mode, "tf32") for mode in modes if "tf32" in precisions]
    for what, mode, precision in plan:
        where = f"train:{mode}:{precision}" if what == "train" else "decode"
        if left() < (20 if what == "decode" else 25):
            report["errors"].append({"phase": where, "error": "skipped: the run budget is spent"})
            log(f"{where}: skipped (budget)")
            continue
        try:
            train(mode, precision) if what == "train" else run_decodes()
        except Exception as error:  # noqa: BLE001
            failed(where, error)
            gc.collect()
            if cuda:
                torch.cuda.empty_cache()
    report["ok"] = not report["errors"]
    save()
    log(f"done in {time.perf_counter() - START:.1f} s")
    return 0 if report["ok"] else 2


if __name__ == "__main__":
    sys.exit(main())
