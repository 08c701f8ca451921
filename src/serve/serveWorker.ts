/**
 * The serve worker's side: loads the base model once (graph compiled or read from the cache, one ONNX Runtime
 * session), then answers completion requests one at a time on it. Adapters are read on first use and kept by id.
 */
import * as path from 'node:path';
import type { MessagePort } from 'node:worker_threads';
import { AdapterStore } from '../adapters/store';
import { isCancelled, TailorError } from '../errors';
import { loadModelDir, type ModelDir } from '../model/modelDir';
import type { LoraAdapter } from '../model/types';
import { LlamaSession } from '../runtime/llamaSession';
import { createOrtEngine } from '../runtime/ortEngine';
import { Completer } from './completer';
import { Generator } from './generate';
import { isServeRequest, type LoadRequest, type ServeAdapterRef, type ServeError, type ServeReply, type ServeStats } from './protocol';

/** Adapters kept in memory at once (each is its A and B matrices, a few MB for a 1B model at rank 16). */
const ADAPTERS_KEPT = 8;

function toServeError(error: unknown): ServeError {
  if (error instanceof TailorError) return { code: error.code, message: error.message, fix: error.fix };
  const e = error as Error;
  return { code: 'internal', message: `Unexpected error: ${e?.stack ?? String(error)}`, fix: 'Please report this with the log.' };
}

export function serveCompletions(port: MessagePort | { on(event: 'message', fn: (m: unknown) => void): void; postMessage(m: unknown): void }): void {
  const stats: ServeStats = { modelLoads: 0, sessionsCreated: 0, adapterLoads: 0, requests: 0, completed: 0, cancelled: 0 };
  let model: ModelDir | null = null;
  let completer: Completer | null = null;
  let loading: Promise<void> | null = null;
  const adapters = new Map<string, LoraAdapter>();
  const refs = new Map<string, ServeAdapterRef>();
  const running = new Map<number, AbortController>();
  const post = (m: ServeReply) => port.postMessage(m);

  const adapterById = (id: string): LoraAdapter => {
    const kept = adapters.get(id);
    if (kept) {
      adapters.delete(id);
      adapters.set(id, kept);
      return kept;
    }
    const ref = refs.get(id);
    if (!ref || !model) throw new TailorError('adapter/missing', `The adapter ${id} is not known to the completion engine.`, 'Switch adapters again.');
    const adapter = new AdapterStore(path.dirname(ref.dir)).load(path.basename(ref.dir), { config: model.config, fingerprint: model.fingerprint, name: path.basename(model.dir) });
    stats.adapterLoads++;
    adapters.set(id, adapter);
    while (adapters.size > ADAPTERS_KEPT) adapters.delete(adapters.keys().next().value!);
    return adapter;
  };

  async function load(request: LoadRequest): Promise<void> {
    const started = performance.now();
    post({ type: 'loading', message: `reading ${request.modelDir}` });
    const dir = loadModelDir(request.modelDir);
    const engine = await createOrtEngine({ device: request.device, ...(request.precision ? { precision: request.precision } : {}), ...(request.threads ? { threads: request.threads } : {}) });
    post({ type: 'loading', message: `compiling the model for ${engine.provider}` });
    const session = await LlamaSession.open(engine, dir, { cacheDir: request.cacheDir, logits: 'last' });
    stats.modelLoads++;
    stats.sessionsCreated++;
    model = dir;
    completer = new Completer(new Generator(session, engine, dir.tokenizer), dir.tokenizer, adapterById, { eosTokenIds: dir.config.eosTokenIds });
    post({
      type: 'loaded',
      info: {
        dir: dir.dir,
        name: path.basename(dir.dir),
        fingerprint: dir.fingerprint,
        provider: engine.provider,
        reason: engine.reason,
        fimStyle: dir.tokenizer.fim?.style ?? null,
        maxPositions: dir.config.maxPositionEmbeddings,
        loadMs: performance.now() - started,
      },
    });
  }

  port.on('message', (message: unknown) => {
    if (!isServeRequest(message)) return;
    switch (message.type) {
      case 'load':
        if (loading || model) return; // One model per worker: the host starts a new worker for another model.
        loading = load(message).catch((error: unknown) => post({ type: 'load-failed', error: toServeError(error) }));
        return;
      case 'cancel':
        running.get(message.id)?.abort();
        return;
      case 'forget-adapter':
        adapters.delete(message.adapterId);
        refs.delete(message.adapterId);
        return;
      case 'stats':
        post({ type: 'stats', id: message.id, stats: { ...stats } });
        return;
      case 'complete': {
        const { id, request, adapter } = message;
        stats.requests++;
        const controller = new AbortController();
        running.set(id, controller);
        const started = performance.now();
        void (async () => {
          try {
            await loading;
            if (!completer) throw new TailorError('serve/no-model', 'The completion model is not loaded.', 'Check the model setting (tailor.model.path).');
            if (adapter) {
              const known = refs.get(adapter.id);
              if (known && known.dir !== adapter.dir) adapters.delete(adapter.id);
              refs.set(adapter.id, adapter);
            }
            const result = await completer.complete({ ...request, adapterId: adapter?.id ?? null }, controller.signal);
            if (result.generation.finish === 'cancelled') stats.cancelled++;
            else stats.completed++;
            post({ type: 'completion', id, result, adapterId: adapter?.id ?? null, elapsedMs: performance.now() - started });
          } catch (error) {
            if (isCancelled(error)) {
              stats.cancelled++;
              post({ type: 'completion', id, result: { text: null, mode: 'single-line', generation: cancelledGeneration() }, adapterId: adapter?.id ?? null, elapsedMs: performance.now() - started });
            } else post({ type: 'failed', id, error: toServeError(error) });
          } finally {
            running.delete(id);
          }
        })();
        return;
      }
    }
  });
}

function cancelledGeneration() {
  return { finish: 'cancelled' as const, promptTokens: 0, reusedTokens: 0, prefillMs: 0, decodeMs: 0, tokens: 0, raw: '' };
}
