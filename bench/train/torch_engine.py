#!/usr/bin/python3
# PyTorch (CPU) as one engine process of the training benchmark: the same training step Tailor's graph takes, on the
# same weights and batches, written here in plain torch (no Transformers, no PEFT):
#   - a Llama forward: embedding, RMSNorm (in float32, weight after), rotary embedding with Hugging Face's
#     rotate-half layout, grouped-query attention with a causal mask (torch 1.13 has no scaled_dot_product_attention,
#     so it is written out: QK^T / sqrt(d) + mask, softmax, @V; the fused kernel is used when a newer torch has it),
#     SwiGLU MLP, final RMSNorm, untied head;
#   - mean cross-entropy over the masked positions, backward, torch.nn.utils.clip_grad_norm_, torch.optim.AdamW
#     (weight decay on matrices only, as Transformers' Trainer and Tailor's graph decide);
#   - LoRA as PEFT does it: lora_B(lora_A(dropout(x))) * alpha / r added to the frozen projection, base weights with
#     requires_grad False, A from a file (the A Tailor's runner starts from, so both engines train the same thing),
#     B zero.
# Requests come as one JSON object per stdin line; answers go to stdout as one line prefixed with the marker the
# parent looks for (protocol.mjs). Weights are read from model.safetensors with safetensors' torch API when that
# package is installed, else by the small reader below (8-byte little-endian header length, JSON header, raw data).
import json
import math
import os
import resource
import struct
import sys
import time

RESPONSE = '@@bench-train@@ '


def reply(message):
    sys.stdout.write(RESPONSE + json.dumps(message) + '\n')
    sys.stdout.flush()


import torch  # noqa: E402  (after reply, so that an import failure can still be reported)
import torch.nn.functional as F  # noqa: E402

DTYPES = {'F32': (torch.float32, 4), 'F16': (torch.float16, 2), 'BF16': (torch.bfloat16, 2)}


def read_safetensors(file):
    """name -> float32 tensor."""
    try:
        from safetensors.torch import load_file  # type: ignore
        return {k: v.float() for k, v in load_file(file).items()}
    except ImportError:
        pass
    with open(file, 'rb') as f:
        (length,) = struct.unpack('<Q', f.read(8))
        header = json.loads(f.read(length))
        data = f.read()
    out = {}
    for name, spec in header.items():
        if name == '__metadata__':
            continue
        dtype, width = DTYPES[spec['dtype']]
        begin, end = spec['data_offsets']
        count = (end - begin) // width
        t = torch.frombuffer(bytearray(data[begin:end]), dtype=dtype, count=count) if count else torch.empty(0, dtype=dtype)
        out[name] = t.reshape(spec['shape']).float()
    return out


def rms_norm(x, weight, eps):
    variance = x.pow(2).mean(-1, keepdim=True)
    return x * torch.rsqrt(variance + eps) * weight


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class LoraLinear(torch.nn.Module):
    """A frozen projection with PEFT's LoRA branch (or none)."""

    def __init__(self, weight, trainable, lora=None):
        super().__init__()
        self.weight = torch.nn.Parameter(weight, requires_grad=trainable)
        self.lora_A = self.lora_B = None
        if lora is not None:
            a, b, scale, dropout = lora
            self.lora_A = torch.nn.Parameter(a)
            self.lora_B = torch.nn.Parameter(b)
            self.scale = scale
            self.dropout = dropout

    def forward(self, x):
        y = F.linear(x, self.weight)
        if self.lora_A is not None:
            d = F.dropout(x, self.dropout, self.training) if self.dropout > 0 else x
            y = y + F.linear(F.linear(d, self.lora_A), self.lora_B) * self.scale
        return y


class Llama(torch.nn.Module):
    def __init__(self, config, weights, mode, lora_a):
        super().__init__()
        full = mode['kind'] == 'full'
        self.heads = config['num_attention_heads']
        self.kv_heads = config.get('num_key_value_heads') or self.heads
        self.head_dim = config.get('head_dim') or config['hidden_size'] // self.heads
        self.eps = config['rms_norm_eps']
        self.layers = config['num_hidden_layers']
        if config.get('rope_scaling'):
            raise ValueError('rope_scaling is not supported by this bench')
        if config.get('tie_word_embeddings'):
            raise ValueError('tied embeddings are not supported by this bench')
        param = lambda name: torch.nn.Parameter(weights[name], requires_grad=full)  # noqa: E731
        self.embed = param('model.embed_tokens.weight')
        self.norm = param('model.norm.weight')
        self.head = param('lm_head.weight')
        targets = set(mode['lora']['targets']) if not full else set()
        order = [m for m in ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj'] if m in targets]
        scale = None if full else (mode['lora']['alpha'] / (math.sqrt(mode['lora']['rank']) if mode['lora'].get('rsLora') else mode['lora']['rank']))
        blocks = []
        for n in range(self.layers):
            p = f'model.layers.{n}.'
            block = torch.nn.Module()
            for m in ['q_proj', 'k_proj', 'v_proj', 'o_proj', 'gate_proj', 'up_proj', 'down_proj']:
                w = weights[p + ('self_attn.' if m.endswith(('q_proj', 'k_proj', 'v_proj', 'o_proj')) else 'mlp.') + m + '.weight']
                lora = None
                if m in targets:
                    a = lora_a[(n, m)]
                    lora = (a, torch.zeros(w.shape[0], a.shape[0]), scale, mode['lora']['dropout'])
                setattr(block, m, LoraLinear(w, full, lora))
            block.input_layernorm = param(p + 'input_layernorm.weight')
            block.post_attention_layernorm = param(p + 'post_attention_layernorm.weight')
            blocks.append(block)
        self.blocks = torch.nn.ModuleList(blocks)
        self.rope_theta = config.get('rope_theta', 10000.0)
        self.lora_order = order
        self._cache = None

    def tables(self, sequence):
        if self._cache is None or self._cache[0] != sequence:
            inv_freq = 1.0 / (self.rope_theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.float32) / self.head_dim))
            freqs = torch.outer(torch.arange(sequence, dtype=torch.float32), inv_freq)
            emb = torch.cat((freqs, freqs), dim=-1)
            mask = torch.full((sequence, sequence), float('-inf')).triu(1)
            self._cache = (sequence, emb.cos(), emb.sin(), mask)
        return self._cache[1:]

    def forward(self, tokens):
        batch, sequence = tokens.shape
        cos, sin, causal = self.tables(sequence)
        sdpa = getattr(F, 'scaled_dot_product_attention', None)
        h = F.embedding(tokens, self.embed)
        rep = self.heads // self.kv_heads
        for b in self.blocks:
            x = rms_norm(h, b.input_layernorm, self.eps)
            q = b.q_proj(x).view(batch, sequence, self.heads, self.head_dim).transpose(1, 2)
            k = b.k_proj(x).view(batch, sequence, self.kv_heads, self.head_dim).transpose(1, 2)
            v = b.v_proj(x).view(batch, sequence, self.kv_heads, self.head_dim).transpose(1, 2)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if rep > 1:
                k = k.repeat_interleave(rep, dim=1)
                v = v.repeat_interleave(rep, dim=1)
            if sdpa is not None:
                o = sdpa(q, k, v, is_causal=True)
            else:
                scores = torch.matmul(q, k.transpose(-2, -1)) / math.sqrt(self.head_dim) + causal
                o = torch.matmul(torch.softmax(scores, dim=-1), v)
            o = o.transpose(1, 2).reshape(batch, sequence, self.heads * self.head_dim)
            h = h + b.o_proj(o)
            x = rms_norm(h, b.post_attention_layernorm, self.eps)
            h = h + b.down_proj(F.silu(b.gate_proj(x)) * b.up_proj(x))
        return F.linear(rms_norm(h, self.norm, self.eps), self.head)


state = {}


def peak_rss_kb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


def current_rss_kb():
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE') // 1024


def blas_library():
    with open('/proc/self/maps') as f:
        libs = {line.split()[-1] for line in f if 'blas' in line.lower() and '/' in line}
    names = sorted({os.path.basename(p) for p in libs})
    return {'mapped': names, 'openblas': any('openblas' in n for n in names)}


def init(args):
    t0 = time.perf_counter()
    torch.set_num_threads(args['threads'])
    torch.manual_seed(args['seed'])
    with open(os.path.join(args['modelDir'], 'config.json')) as f:
        config = json.load(f)
    weights = read_safetensors(os.path.join(args['modelDir'], 'model.safetensors'))
    mode = args['mode']
    lora_a = {}
    if mode['kind'] == 'lora':
        # The A matrices Tailor's runner starts from: float32, layer-major, targets in TARGET_MODULES order, [rank, in].
        raw = open(args['loraInitFile'], 'rb').read()
        flat = torch.frombuffer(bytearray(raw), dtype=torch.float32)
        offset = 0
        for entry in args['loraInitLayout']:
            count = entry['rank'] * entry['in']
            lora_a[(entry['layer'], entry['module'])] = flat[offset:offset + count].reshape(entry['rank'], entry['in']).clone()
            offset += count
        if offset != flat.numel():
            raise ValueError(f'LoRA init file has {flat.numel()} values, the layout {offset}')
    model = Llama(config, weights, mode, lora_a)
    del weights
    model.train()
    trainable = [p for p in model.parameters() if p.requires_grad]
    decay = [p for p in trainable if p.dim() > 1]
    no_decay = [p for p in trainable if p.dim() <= 1]
    o = args['optimizer']
    optimizer = torch.optim.AdamW([{'params': decay, 'weight_decay': o['weightDecay']}, {'params': no_decay, 'weight_decay': 0.0}], lr=o['learningRate'], betas=(o['beta1'], o['beta2']), eps=o['epsilon'])
    # Batches: int32 [count, batch, sequence + 1]; tokens are the first `sequence` ids of a row, targets the last.
    b, s = args['batch'], args['sequence']
    raw = open(args['batchesFile'], 'rb').read()
    rows = torch.frombuffer(bytearray(raw), dtype=torch.int32).reshape(-1, b, s + 1)
    state.update(model=model, optimizer=optimizer, rows=rows, maxGradNorm=o['maxGradNorm'], batch=b, sequence=s)
    return {
        'loadMs': (time.perf_counter() - t0) * 1000,
        'torch': torch.__version__,
        'threads': torch.get_num_threads(),
        'blas': blas_library(),
        'sdpa': hasattr(F, 'scaled_dot_product_attention'),
        'safetensorsPackage': _has_safetensors(),
        'trainableParameters': sum(p.numel() for p in trainable),
        'rssKB': current_rss_kb(),
        'maxRssKB': peak_rss_kb(),
    }


def _has_safetensors():
    try:
        import safetensors  # type: ignore  # noqa: F401
        return True
    except ImportError:
        return False


def one_step(index):
    """One optimizer step on batch `index` (one micro-batch): loss before the update, the gradient norm before clipping."""
    model, optimizer = state['model'], state['optimizer']
    row = state['rows'][index]
    tokens = row[:, :-1].long()
    targets = row[:, 1:].long()
    mask = torch.ones(tokens.shape, dtype=torch.float32)  # every position counts, as in Tailor's batch
    logits = model(tokens)
    losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction='none')
    loss = (losses * mask.reshape(-1)).sum() / mask.sum()
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    norm = torch.nn.utils.clip_grad_norm_([p for g in optimizer.param_groups for p in g['params']], state['maxGradNorm'])
    optimizer.step()
    return loss.item(), float(norm)


def steps(args):
    out = []
    for i in range(args['start'], args['start'] + args['count']):
        c0 = time.process_time()
        t0 = time.perf_counter()
        loss, norm = one_step(i)
        out.append({'index': i, 'ms': (time.perf_counter() - t0) * 1000, 'cpuMs': (time.process_time() - c0) * 1000, 'loss': loss, 'gradNorm': norm})
    return {'steps': out, 'rssKB': current_rss_kb(), 'maxRssKB': peak_rss_kb()}


def stats(_args):
    return {'rssKB': current_rss_kb(), 'maxRssKB': peak_rss_kb()}


HANDLERS = {'init': init, 'steps': steps, 'stats': stats}


def main():
    for line in sys.stdin:
        if not line.strip():
            continue
        request = json.loads(line)
        rid, op, args = request['id'], request['op'], request.get('args') or {}
        if op == 'exit':
            reply({'id': rid, 'ok': True, 'result': {'maxRssKB': peak_rss_kb()}})
            return
        try:
            reply({'id': rid, 'ok': True, 'result': HANDLERS[op](args)})
        except Exception as error:  # noqa: BLE001  (reported to the parent)
            import traceback
            reply({'id': rid, 'ok': False, 'error': f'{error}\n{traceback.format_exc()}'})


if __name__ == '__main__':
    main()
