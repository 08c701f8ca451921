/**
 * Judging file contents on more threads. The walk stays on one thread (it is cheap and its order makes the corpus
 * deterministic); batches of files go to scan workers when they are free, and the miner takes results in the order
 * the files were walked. A scan worker is the bundled worker script started with `workerData.role` "corpus-scan";
 * it says when it is ready, so nothing waits for a worker that is still loading.
 */
import { Worker, type MessagePort } from 'node:worker_threads';
import { SKETCH_BINS } from './dedup';
import { ContentJudge, type ContentResult, type ContentTask } from './judge';
import { languageFromName } from './language';

export const SCAN_ROLE = 'corpus-scan';

interface Request {
  id: number;
  tasks: ContentTask[];
}

type Response = { id: number; results: ContentResult[]; sketches: Uint32Array } | { id: number; error: string } | { ready: true };

export interface Judged {
  results: ContentResult[];
  sketches: Uint32Array;
}

/** The worker side: answers batches until the port closes. */
export function serveScanRequests(port: MessagePort, maxBytes: number): void {
  const judge = new ContentJudge(maxBytes);
  // Load the language tables and the rest now, so the first batch does not pay for it, then say so.
  judge.judgeAll([], new Uint32Array(0));
  languageFromName('warm.ts');
  port.postMessage({ ready: true } satisfies Response);
  port.on('message', (request: Request) => {
    try {
      const sketches = new Uint32Array(request.tasks.length * SKETCH_BINS);
      const results = judge.judgeAll(request.tasks, sketches);
      port.postMessage({ id: request.id, results, sketches } satisfies Response, [sketches.buffer]);
    } catch (error) {
      port.postMessage({ id: request.id, error: (error as Error).stack ?? String(error) } satisfies Response);
    }
  });
}

export class ScanPool {
  private readonly idle: Worker[] = [];
  private readonly queue: Array<{ request: Request; resolve: (j: Judged) => void; reject: (e: Error) => void }> = [];
  private readonly pending = new Map<number, { worker: Worker; resolve: (j: Judged) => void; reject: (e: Error) => void }>();
  private readonly workers: Worker[] = [];
  private nextId = 0;
  private broken: Error | undefined;

  constructor(script: string, threads: number, maxBytes: number) {
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(script, { workerData: { role: SCAN_ROLE, maxBytes } });
      worker.unref();
      worker.on('message', (response: Response) => this.answer(worker, response));
      worker.on('error', (error) => this.fail(error));
      worker.on('exit', (code) => code !== 0 && this.fail(new Error(`scan worker exited with code ${code}`)));
      this.workers.push(worker);
    }
  }

  /** Whether a batch given now would start at once: a worker is up and has nothing to do. */
  hasFreeWorker(): boolean {
    return !this.broken && this.idle.length > 0 && this.queue.length === 0;
  }

  judge(tasks: ContentTask[]): Promise<Judged> {
    if (this.broken) return Promise.reject(this.broken);
    return new Promise((resolve, reject) => {
      this.queue.push({ request: { id: this.nextId++, tasks }, resolve, reject });
      this.dispatch();
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private dispatch(): void {
    while (this.idle.length > 0 && this.queue.length > 0) {
      const worker = this.idle.pop()!;
      const { request, resolve, reject } = this.queue.shift()!;
      this.pending.set(request.id, { worker, resolve, reject });
      worker.postMessage(request);
    }
  }

  private answer(worker: Worker, response: Response): void {
    if ('ready' in response) {
      this.idle.push(worker);
      this.dispatch();
      return;
    }
    const waiter = this.pending.get(response.id);
    if (!waiter) return;
    this.pending.delete(response.id);
    this.idle.push(worker);
    if ('error' in response) waiter.reject(new Error(response.error));
    else waiter.resolve({ results: response.results, sketches: response.sketches });
    this.dispatch();
  }

  private fail(error: Error): void {
    this.broken ??= error;
    for (const waiter of this.pending.values()) waiter.reject(error);
    for (const queued of this.queue) queued.reject(error);
    this.pending.clear();
    this.queue.length = 0;
  }
}
