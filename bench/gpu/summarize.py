#!/usr/bin/env python3
"""Puts the GPU benchmark's two sides side by side (bench/gpu/device.sh runs it last).

  python3 bench/gpu/summarize.py --out DIR [--command "..."] [--probe JSON] [--elapsed SECONDS]

Reads DIR/tailor.json, DIR/torch.json and DIR/gpu-samples.csv (each may be missing: a side that failed is reported
as such), writes DIR/result.json (both reports, the rows of the table, the goals) and DIR/table.txt, and prints the
table. Standard library only.

Goals (issue 9): Tailor's LoRA training throughput at least half of PyTorch + PEFT's, and Tailor's decode faster than
PyTorch's eager generation; both judged at the same precision (float32) with the same settings (the extension's
defaults: LoRA r16, alpha 32, seven projections, dropout 0.05; decode with the trained adapter, unmerged).
"""
import argparse
import csv
import json
import os
import time

TRAIN_GOAL = 0.5
DECODE_GOAL = 1.0


def load(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as error:
        return {"errors": [{"phase": "report", "error": f"{path} is not valid JSON: {error}"}]}


def fig(report, section, key, name):
    try:
        return report[section][key]["figures"][name]
    except (KeyError, TypeError):
        return None


def peaks(samples_file):
    out = {}
    try:
        with open(samples_file) as f:
            for row in csv.reader(f):
                if len(row) < 4 or row[0].strip() == "side":
                    continue
                side = row[0].strip()
                try:
                    mem, util = float(row[2]), float(row[3])
                except ValueError:
                    continue
                p = out.setdefault(side, {"memoryUsedMaxMiB": 0, "memoryUsedMinMiB": mem, "utilizationMaxPercent": 0, "samples": 0})
                p["memoryUsedMaxMiB"] = max(p["memoryUsedMaxMiB"], mem)
                p["memoryUsedMinMiB"] = min(p["memoryUsedMinMiB"], mem)
                p["utilizationMaxPercent"] = max(p["utilizationMaxPercent"], util)
                p["samples"] += 1
    except FileNotFoundError:
        pass
    return out


def ratio(a, b):
    return round(a / b, 3) if a and b else None


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--command", default=None)
    parser.add_argument("--probe", default=None)
    parser.add_argument("--elapsed", type=float, default=None)
    args = parser.parse_args()

    tailor = load(os.path.join(args.out, "tailor.json"))
    torch = load(os.path.join(args.out, "torch.json"))
    gpu_peaks = peaks(os.path.join(args.out, "gpu-samples.csv"))
    try:
        probe = json.loads(args.probe) if args.probe else None
    except json.JSONDecodeError:
        probe = {"raw": args.probe}

    model = (tailor or {}).get("model") or (torch or {}).get("model") or {}
    settings = (tailor or {}).get("settings") or (torch or {}).get("settings") or {}
    tokens = (settings.get("batch") or 0) * (settings.get("sequence") or 0)
    provider = ((tailor or {}).get("engine") or {}).get("provider")
    provider_label = {"webgpu": "WebGPU", "cpu": "CPU"}.get(provider, provider or "?")
    adapter = (tailor or {}).get("adapter") or (probe or {}).get("adapter")
    adapter_text = (tailor or {}).get("adapter", {}).get("described") if (tailor or {}).get("adapter") else (probe or {}).get("described")

    rows_train = []
    for key, r in ((tailor or {}).get("train") or {}).items():
        f = r.get("figures") or {}
        precision = "f16" if str(r.get("precision", "f32")).startswith("f16") else "f32"
        rows_train.append({"engine": f"Tailor {provider_label} {precision}", "key": f"tailor:{key}", "mode": key, "precision": precision, "label": r.get("label"), "extra": key != "defaults", **f})
    for key, r in ((torch or {}).get("train") or {}).items():
        f = r.get("figures") or {}
        mode, precision = key.split(":")
        rows_train.append({"engine": f"PyTorch+PEFT {precision}", "key": f"torch:{key}", "mode": mode, "precision": precision, "label": r.get("label"), "extra": not (mode == "defaults" and precision == "f32"), **f})

    rows_decode = []
    for key, r in (((tailor or {}).get("decode") or {}).get("runs") or {}).items():
        rows_decode.append({"engine": f"Tailor {provider_label} f32", "key": f"tailor:{key}", "label": r.get("label"), **(r.get("figures") or {})})
    for key, r in ((torch or {}).get("decode") or {}).items():
        rows_decode.append({"engine": f"PyTorch {key.split(':')[0]} eager", "key": f"torch:{key}", "label": r.get("label"), **(r.get("figures") or {})})

    t_train = fig(tailor, "train", "defaults", "tokensPerSecond")
    p_train = fig(torch, "train", "defaults:f32", "tokensPerSecond")
    t_decode = fig((tailor or {}).get("decode"), "runs", "adapter", "decodeTokensPerSecond")
    p_decode = fig(torch, "decode", "f32:adapter", "decodeTokensPerSecond")
    on_gpu = provider == "webgpu" and bool(adapter) and not (adapter or {}).get("software", (adapter or {}).get("isFallbackAdapter", False))

    def goal(name, a, b, threshold, strict):
        r = ratio(a, b)
        if r is None:
            return {"goal": name, "met": None, "why": "a figure is missing (see errors)"}
        met = r > threshold if strict else r >= threshold
        if not on_gpu:
            return {"goal": name, "ratio": r, "threshold": threshold, "met": None, "why": "Tailor did not run on a hardware GPU adapter: not judged"}
        return {"goal": name, "ratio": r, "threshold": threshold, "met": met}

    decode_goal = "decode tokens/s: Tailor (trained adapter, f32) faster than PyTorch eager generate (PEFT adapter, f32)"
    if t_decode is None or p_decode is None:
        # No trained adapter on one side (its training failed): judge the base models instead, and say so.
        t_base = fig((tailor or {}).get("decode"), "runs", "base", "decodeTokensPerSecond")
        p_base = fig(torch, "decode", "f32:base", "decodeTokensPerSecond")
        if t_base is not None and p_base is not None:
            t_decode, p_decode = t_base, p_base
            decode_goal = "decode tokens/s: Tailor (base model, f32; no adapter row) faster than PyTorch eager generate (base model, f32)"
    goals = [
        goal("LoRA training tokens/s: Tailor (defaults, f32) at least half of PyTorch + PEFT (defaults, f32)", t_train, p_train, TRAIN_GOAL, False),
        goal(decode_goal, t_decode, p_decode, DECODE_GOAL, True),
    ]
    info = {
        "trainTailorOverTorchBf16": ratio(t_train, fig(torch, "train", "defaults:bf16", "tokensPerSecond")),
        "trainTailorOverTorchTf32": ratio(t_train, fig(torch, "train", "defaults:tf32", "tokensPerSecond")),
        "trainTailorF16OverTorchBf16": ratio(fig(tailor, "train", "f16", "tokensPerSecond"), fig(torch, "train", "defaults:bf16", "tokensPerSecond")),
        "trainNoDropoutTailorOverTorch": ratio(fig(tailor, "train", "nodropout", "tokensPerSecond"), fig(torch, "train", "nodropout:f32", "tokensPerSecond")),
        "decodeBaseTailorOverTorch": ratio(fig((tailor or {}).get("decode"), "runs", "base", "decodeTokensPerSecond"), fig(torch, "decode", "f32:base", "decodeTokensPerSecond")),
        "decodeTailorOverTorchBf16": ratio(t_decode, fig(torch, "decode", "bf16:adapter", "decodeTokensPerSecond")),
    }
    t_loss = fig(tailor, "train", "defaults", "firstLoss")
    p_loss = fig(torch, "train", "defaults:f32", "firstLoss")
    same_weights = bool(torch and "Tailor's generated model" in str((torch.get("model") or {}).get("weights")))
    loss_check = {
        "tailorFirstLoss": t_loss,
        "torchFirstLoss": p_loss,
        "relativeDifference": float(f"{abs(t_loss - p_loss) / abs(p_loss):.2e}") if t_loss and p_loss else None,
        "comparable": same_weights,
        "note": "same weights and first batch, LoRA B = 0 on both sides: the first losses should agree to float32 rounding" if same_weights else "PyTorch did not load Tailor's weights: not comparable",
    }

    errors = [{"side": "tailor", **e} for e in ((tailor or {}).get("errors") or [])] + [{"side": "pytorch", **e} for e in ((torch or {}).get("errors") or [])]
    for e in errors:
        e.pop("stack", None)
        e.pop("trace", None)
    if tailor is None:
        errors.append({"side": "tailor", "phase": "report", "error": "no tailor.json: Tailor's side did not run or died before its first phase"})
    if torch is None:
        errors.append({"side": "pytorch", "phase": "report", "error": "no torch.json: the PyTorch side did not run"})

    result = {
        "bench": "gpu",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "command": args.command,
        "elapsedSeconds": args.elapsed,
        "model": model,
        "workload": {"batch": settings.get("batch"), "sequence": settings.get("sequence"), "tokensPerStep": tokens, "prompt": settings.get("prompt"), "decode": settings.get("decode")},
        "gpu": (torch or {}).get("gpu"),
        "versions": {"pytorch": (torch or {}).get("versions"), "node": ((tailor or {}).get("machine") or {}).get("node"), "onnxruntime": ((tailor or {}).get("onnxruntime") or {}).get("version")},
        "tailorProvider": (tailor or {}).get("engine"),
        "webgpuAdapter": adapter,
        "probe": probe,
        "onHardwareGpu": on_gpu,
        "train": rows_train,
        "decode": rows_decode,
        "goals": goals,
        "ratios": info,
        "lossCheck": loss_check,
        "gpuMemory": gpu_peaks,
        "errors": errors,
        "tailor": tailor,
        "pytorch": torch,
    }
    with open(os.path.join(args.out, "result.json"), "w") as f:
        json.dump(result, f, indent=2)
        f.write("\n")

    def n(x, digits=0):
        if x is None:
            return "-"
        return f"{x:,.{digits}f}"

    lines = []
    params = model.get("parameters")
    lines.append(f"Tailor GPU benchmark: shape {model.get('shape')} ({n(params / 1e6 if params else None, 1)}M parameters), GPU {((torch or {}).get('gpu') or {}).get('name', '?')}")
    lines.append(f"Tailor: provider {provider_label}, Dawn adapter: {adapter_text or '?'}{'' if on_gpu else '  <-- NOT a hardware GPU'}; onnxruntime-node {result['versions']['onnxruntime']}, Node {result['versions']['node']}")
    v = (torch or {}).get("versions") or {}
    lines.append(f"PyTorch {v.get('torch', '?')} (CUDA {v.get('cuda', '?')}), transformers {v.get('transformers', '?')}, peft {v.get('peft', '?')}; attention {((torch or {}).get('model') or {}).get('attention', '?')}")
    lines.append("")
    lines.append(f"LoRA training step: batch {settings.get('batch')} x {settings.get('sequence')} = {tokens} tokens, AdamW, clip 1.0; median step time")
    lines.append(f"  {'engine':<22}{'mode':<12}{'tokens/s':>10}{'ms/step':>10}{'steps':>7}{'first loss':>12}  note")
    for r in sorted(rows_train, key=lambda r: (r["extra"], r["mode"], r["key"])):
        note = "extra" if r["extra"] else "headline"
        if r.get("peakMemoryGiB") is not None:
            note += f", peak {r['peakMemoryGiB']} GiB allocated"
        lines.append(f"  {r['engine']:<22}{r['mode']:<12}{n(r.get('tokensPerSecond')):>10}{n(r.get('msPerStep'), 1):>10}{n(r.get('measuredSteps')):>7}{n(r.get('firstLoss'), 5):>12}  {note}")
    lines.append("")
    lines.append(f"Decode: greedy, {settings.get('prompt')}-token prompt, then {settings.get('decode')} single-token steps (KV cache on the device)")
    lines.append(f"  {'engine':<22}{'what':<36}{'tokens/s':>10}{'ms/token':>10}{'prefill ms':>12}")
    for r in rows_decode:
        what = r["key"].split(":", 1)[1]
        lines.append(f"  {r['engine']:<22}{what:<36}{n(r.get('decodeTokensPerSecond'), 1):>10}{n(r.get('msPerToken'), 2):>10}{n(r.get('prefillMs'), 1):>12}")
    lines.append("")
    lines.append("Goals (float32 on both sides, the extension's defaults):")
    for g in goals:
        status = "NOT JUDGED" if g["met"] is None else ("MET" if g["met"] else "NOT MET")
        detail = g.get("why") if g.get("ratio") is None else f"ratio {g['ratio']} ({'>' if g['threshold'] == DECODE_GOAL else '>='} {g['threshold']}){'; ' + g['why'] if g.get('why') else ''}"
        lines.append(f"  {status:<10} {g['goal']}: {detail}")
    lines.append(f"  other ratios (Tailor / PyTorch): {json.dumps(info)}")
    lines.append(f"First-step loss: Tailor {loss_check['tailorFirstLoss']} / PyTorch {loss_check['torchFirstLoss']} (relative difference {loss_check['relativeDifference']}; {loss_check['note']})")
    for side, p in gpu_peaks.items():
        lines.append(f"GPU memory used while {side} ran (nvidia-smi, every 0.5 s): up to {n(p['memoryUsedMaxMiB'])} MiB, utilisation up to {n(p['utilizationMaxPercent'])}%")
    if errors:
        lines.append("")
        lines.append("Errors:")
        for e in errors:
            lines.append(f"  {e['side']} {e.get('phase')}: {str(e.get('error')).splitlines()[0] if e.get('error') else ''}")
    lines.append("")
    lines.append(f"command: {args.command}; {args.elapsed} s")
    text = "\n".join(lines) + "\n"
    with open(os.path.join(args.out, "table.txt"), "w") as f:
        f.write(text)
    print(text, end="")


if __name__ == "__main__":
    main()
