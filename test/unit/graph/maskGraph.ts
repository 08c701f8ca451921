/** LoRA dropout masks drawn by a graph on an engine, beside the reference's (graph/dropoutMask.ts). */
import { dropoutColumnKeys, dropoutKeepMask, dropoutRowKeys, keepThreshold } from '../../../src/graph/dropoutMask';
import { encodeModel } from '../../../src/graph/onnx/modelWriter';
import { OnnxGraph } from '../../../src/graph/onnx/onnxGraph';
import { dropoutKeep, dropoutRowInput, trainingNames as N } from '../../../src/graph/onnx/trainingGraph';
import { TARGET_MODULES, type TargetModule } from '../../../src/model/types';
import type { Engine } from '../../../src/runtime/engine';

export interface MaskCase {
  layer: number;
  module: TargetModule;
  width: number;
}

/** A graph that outputs the keep-masks `cases` draw from `dropout_rows`, as the training step draws them. */
export function maskGraph(cases: readonly MaskCase[], dropout: number): Uint8Array {
  const graph = new OnnxGraph();
  const rows = dropoutRowInput(graph);
  cases.forEach((c, i) => graph.output(dropoutKeep(graph, rows, c.layer, c.module, c.width, dropout), `keep${i}`, ['batch', 'sequence', c.width]));
  return encodeModel(graph.spec({ graphName: 'dropout_masks' }));
}

/** Each case's mask from `engine` and from the reference, for the row keys of (seed, step, micro-batch). */
export async function drawnMasks(engine: Engine, cases: readonly MaskCase[], dropout: number, batch: number, sequence: number, seed: number): Promise<{ graph: Uint8Array[]; reference: Uint8Array[] }> {
  const rows = dropoutRowKeys(seed, 3, 1, batch * sequence);
  const session = await engine.createSession({ bytes: maskGraph(cases, dropout) });
  try {
    const out = await session.run({ [N.dropoutRows]: engine.tensor('uint32', rows, [batch, sequence]) });
    return {
      graph: cases.map((_, i) => Uint8Array.from(out[`keep${i}`]!.data as Uint8Array)),
      reference: cases.map((c) => dropoutKeepMask(rows, dropoutColumnKeys(c.layer, TARGET_MODULES.indexOf(c.module), c.width), keepThreshold(dropout))),
    };
  } finally {
    await session.dispose();
  }
}
