import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { isCancelled, TailorError } from '../../../src/errors';
import { buildFimPrompt } from '../../../src/serve/fimPrompt';
import { prepareTrainingData, VALIDATION_SEED, type CorpusTrainingData, type TrainingDataOptions } from '../../../src/train/data';
import { chunkText } from '../../../src/train/dataExamples';
import { codeFile, treeMaker } from '../fixtureTree';
import { batchBytes, batchesWithSlots, fixtureProject, mine, tinyTokenizers } from './dataFixture';

const newTree = treeMaker();
const tokenizers = tinyTokenizers();
const SAMPLES = path.join(__dirname, '..', '..', '..', '..', 'samples', 'workspace');

async function prepared(options: Partial<TrainingDataOptions> = {}, tree = fixtureProject()): Promise<CorpusTrainingData> {
  const corpus = await mine(newTree(tree));
  return prepareTrainingData(corpus, tokenizers.withFim(), { sequence: 128, batch: 4, seed: 7, ...options });
}

const fimIds = () => {
  const fim = tokenizers.withFim().fim!;
  return new Set([fim.prefix.id, fim.suffix.id, fim.middle.id]);
};

describe('training data: FIM examples', () => {
  it('are the inference prompt for their prefix and suffix, token for token, then the middle and the end-of-text token', async () => {
    const data = await prepared({ fimRate: 1 });
    const tok = tokenizers.withFim();
    const fim = tok.fim!;
    const plan = data.epochPlan(0);
    const fims = plan.examples.filter((e) => e.kind === 'fim');
    assert.ok(fims.length > 20, `${fims.length} FIM examples`);
    for (const e of fims) {
      const text = chunkText(data.documents[e.doc]!, e.chunk!);
      const prefix = text.slice(0, e.middle!.start);
      const middle = text.slice(e.middle!.start, e.middle!.end);
      const suffix = text.slice(e.middle!.end);
      const prompt = buildFimPrompt(tok, prefix, suffix);
      assert.ok(prompt.fim);
      const plain = (s: string) => tok.encode(s, { plain: true });
      assert.deepEqual([...e.ids], [...prompt.ids, ...plain(middle), fim.endOfText!.id]);
      assert.deepEqual([...e.ids], [fim.prefix.id, ...plain(prefix), fim.suffix.id, ...plain(suffix), fim.middle.id, ...plain(middle), fim.endOfText!.id]);
      assert.ok(middle.length > 0 && !middle.endsWith('\n') && suffix.startsWith('\n'), JSON.stringify({ middle, suffix: suffix.slice(0, 5) }));
    }
  });

  it('put the loss on exactly the middle and the end-of-text token', async () => {
    const data = await prepared({ fimRate: 1 });
    const plan = data.epochPlan(0);
    const fim = tokenizers.withFim().fim!;
    let checked = 0;
    for (const { batch, slots } of batchesWithSlots(data, 0)) {
      slots.forEach((slot, p) => {
        if (!slot) return;
        const e = plan.examples[slot.example]!;
        if (e.kind !== 'fim') return;
        const middleAt = e.ids.indexOf(fim.middle.id);
        const inLoss = slot.index >= middleAt && slot.index < e.ids.length - 1;
        assert.equal(batch.lossMask[p], inLoss ? 1 : 0, `example ${slot.example} position ${slot.index}`);
        if (inLoss) assert.equal(batch.targets[p], e.ids[slot.index + 1]);
        checked++;
      });
    }
    assert.ok(checked > 1000);
    // The loss covers the middle tokens and one end token per FIM example.
    const fims = plan.examples.filter((e) => e.kind === 'fim');
    const expected = fims.reduce((n, e) => n + e.ids.length - e.ids.indexOf(fim.middle.id) - 1, 0);
    const fragments = plan.examples.filter((e) => e.kind !== 'fim').reduce((n, e) => n + e.ids.length - 1 - e.lossStart, 0);
    assert.equal(data.tokensPerEpoch, expected + fragments);
  });

  it('never straddle two sequences, while long plain files are split across sequences', async () => {
    const data = await prepared({ sequence: 64, fimRate: 0.5 });
    const plan = data.epochPlan(0);
    const pieces = new Map<number, number>();
    for (let k = 0; k < plan.packed.pieces.length; k += 3) pieces.set(plan.packed.pieces[k]!, (pieces.get(plan.packed.pieces[k]!) ?? 0) + 1);
    let split = 0;
    plan.examples.forEach((e, i) => {
      if (e.kind === 'fim') assert.equal(pieces.get(i), 1, `FIM example ${i} is in ${pieces.get(i)} pieces`);
      else if (pieces.get(i)! > 1) split++;
    });
    assert.ok(split > 0);
    assert.ok(plan.examples.some((e) => e.kind === 'fim'));
  });

  it('are drawn again each epoch, and the same for the same seed', async () => {
    const data = await prepared({ fimRate: 1 });
    const spans = (epoch: number) => data.epochPlan(epoch).examples.filter((e) => e.kind === 'fim').map((e) => `${e.doc}/${e.chunk}:${e.middle!.start}-${e.middle!.end}`).sort();
    const first = spans(0);
    assert.notDeepEqual(spans(1), first);
    assert.deepEqual(spans(0), first);
  });

  it('mix with plain examples at the FIM rate; rate 0 gives plain examples only', async () => {
    const half = await prepared({ fimRate: 0.5, sequence: 512 });
    const docs = (kind: string) => new Set(half.epochPlan(0).examples.filter((e) => e.kind === kind).map((e) => e.doc)).size;
    assert.ok(docs('fim') > 2 && docs('plain') > 2, `${docs('fim')} FIM and ${docs('plain')} plain documents`);

    const none = await prepared({ fimRate: 0 });
    assert.ok(none.epochPlan(0).examples.every((e) => e.kind === 'plain'));
    const special = fimIds();
    for (const b of none.batches(0)) assert.ok(!b.tokens.some((t) => special.has(t)));
    assert.equal(none.report.fim, null);
    assert.equal(none.report.notice, null);
  });
});

describe('training data: plain examples', () => {
  it('are the file-path header, the text, and the end-of-text token, with the loss after the header', async () => {
    const root = newTree(fixtureProject());
    const tok = tokenizers.withFim();
    const data = await prepareTrainingData(await mine(root), tok, { sequence: 128, batch: 4, fimRate: 0 });
    const fileSep = tok.fim!.fileSeparator!.id;
    assert.equal(data.report.header, 'file-separator');
    for (const d of data.documents) {
      const header = [fileSep, ...tok.encode(`${d.path}\n`, { plain: true })];
      assert.deepEqual([...d.ids.subarray(0, d.headerLength)], header);
      assert.equal(tok.decode([...d.ids.subarray(d.headerLength, d.ids.length - 1)]), fs.readFileSync(path.join(root, d.path), 'utf8'));
      assert.equal(d.ids[d.ids.length - 1], tok.fim!.endOfText!.id);
    }
    const plan = data.epochPlan(0);
    for (const { batch, slots } of batchesWithSlots(data, 0)) {
      slots.forEach((slot, p) => {
        if (!slot) return;
        const e = plan.examples[slot.example]!;
        const d = data.documents[e.doc]!;
        // Position i predicts token i + 1: the loss covers the text's tokens and the end token, not the header.
        assert.equal(batch.lossMask[p], slot.index >= d.headerLength - 1 && slot.index < e.ids.length - 1 ? 1 : 0);
      });
    }
  });

  it('have a comment header, and no FIM, when the tokenizer has no FIM tokens; the report says so', async () => {
    const corpus = await mine(newTree(fixtureProject()));
    const tok = tokenizers.withoutFim();
    assert.equal(tok.fim, null);
    const data = await prepareTrainingData(corpus, tok, { sequence: 128, batch: 4, fimRate: 0.5 });
    assert.equal(data.report.fim, null);
    assert.equal(data.report.fimRate, 0);
    assert.match(data.report.notice!, /no fill-in-the-middle tokens/);
    assert.equal(data.report.header, 'comment');
    assert.ok(data.epochPlan(0).examples.every((e) => e.kind === 'plain'));
    const header = (p: string) => {
      const d = data.documents.find((x) => x.path === p)!;
      return tok.decode([...d.ids.subarray(0, d.headerLength)]);
    };
    assert.equal(header('src/module0.ts'), '// src/module0.ts\n');
    assert.equal(header('scripts/report.py'), '# scripts/report.py\n');
    assert.equal(header('package.json'), '');
  });
});

describe('training data: packing', () => {
  it('shifts targets by one, across sequence boundaries too, and keeps padding out of the loss', async () => {
    const data = await prepared({ fimRate: 0.5, sequence: 64 });
    const plan = data.epochPlan(0);
    let continued = 0;
    let padded = 0;
    let maskSum = 0;
    for (const { batch, slots } of batchesWithSlots(data, 0)) {
      slots.forEach((slot, p) => {
        maskSum += batch.lossMask[p]!;
        if (!slot) {
          padded++;
          assert.equal(batch.lossMask[p], 0);
          assert.equal(batch.tokens[p], data.format.pad);
          return;
        }
        const ids = plan.examples[slot.example]!.ids;
        assert.equal(batch.tokens[p], ids[slot.index]);
        const rowEnd = (p + 1) % batch.sequence === 0;
        if (!rowEnd) assert.equal(batch.targets[p], batch.tokens[p + 1], 'within a sequence the target is the next input');
        if (slot.index === ids.length - 1) {
          // The example's last token (the end-of-text token) predicts the next example or padding, outside the loss.
          assert.equal(batch.lossMask[p], 0);
          if (rowEnd) assert.equal(batch.targets[p], data.format.pad);
        } else {
          assert.equal(batch.targets[p], ids[slot.index + 1]);
          if (rowEnd) continued++;
        }
      });
    }
    assert.ok(continued > 0, 'some example runs on into another sequence');
    assert.ok(padded > 0, 'the epoch ends with padding');
    assert.equal(maskSum, data.tokensPerEpoch);
  });

  it('puts every document token in exactly one sequence once per epoch', async () => {
    const data = await prepared({ fimRate: 0, sequence: 64, batch: 3 });
    for (const epoch of [0, 1]) {
      const plan = data.epochPlan(epoch);
      const seen = data.documents.map((d) => new Int32Array(d.ids.length).fill(-1));
      let tokens = 0;
      for (const { batch, slots } of batchesWithSlots(data, epoch)) {
        slots.forEach((slot, p) => {
          if (!slot) return;
          const doc = plan.examples[slot.example]!.doc;
          assert.equal(seen[doc]![slot.index], -1, 'seen twice');
          seen[doc]![slot.index] = batch.tokens[p]!;
          tokens++;
        });
      }
      data.documents.forEach((d, i) => {
        if (d.split === 'train') assert.deepEqual(seen[i], d.ids);
        else assert.ok(seen[i]!.every((t) => t === -1), 'a validation file in training');
      });
      assert.equal(tokens, data.report.counts.trainTokens);
    }
    assert.equal(data.report.counts.sequencesPerEpoch, Math.ceil(data.report.counts.trainTokens / 64));
    assert.equal(data.batchesPerEpoch, Math.ceil(data.report.counts.sequencesPerEpoch / 3));
  });

  it('covers every line of every file exactly once per epoch with FIM on', async () => {
    const data = await prepared({ fimRate: 0.6, sequence: 64 });
    const tok = tokenizers.withFim();
    const plan = data.epochPlan(1);
    const covered = new Map<number, string[]>();
    for (const e of plan.examples) {
      const d = data.documents[e.doc]!;
      const list = covered.get(e.doc) ?? [];
      covered.set(e.doc, list);
      if (e.kind === 'plain') list.push(tok.decode([...e.ids.subarray(d.headerLength, e.ids.length - 1)]));
      else list[e.chunk!] = chunkText(d, e.chunk!);
      if (e.kind === 'fragment') assert.equal(tok.decode([...e.ids]).replace(/<\|endoftext\|>$/, '').replace(/^<\|file_sep\|>[^\n]*\n/, ''), chunkText(d, e.chunk!));
    }
    const trainDocs = data.documents.filter((d) => d.split === 'train');
    assert.equal(covered.size, trainDocs.length);
    for (const [doc, parts] of covered) assert.equal(parts.join(''), Buffer.from(data.documents[doc]!.text!).toString('utf8'));
    // And every example is packed whole, once.
    const length = new Map<number, number>();
    for (let k = 0; k < plan.packed.pieces.length; k += 3) length.set(plan.packed.pieces[k]!, (length.get(plan.packed.pieces[k]!) ?? 0) + plan.packed.pieces[k + 2]!);
    plan.examples.forEach((e, i) => assert.equal(length.get(i), e.ids.length));
  });

  it('fills the last batch of an epoch with padding sequences', async () => {
    const data = await prepared({ fimRate: 0, sequence: 64, batch: 5 });
    const rows = data.report.counts.sequencesPerEpoch;
    assert.notEqual(rows % 5, 0, 'the fixture should leave a partial batch');
    const batches = [...data.batches(0)];
    const last = batches[batches.length - 1]!;
    assert.equal(last.batch, 5);
    const emptyRows = 5 - (rows % 5);
    const tail = last.lossMask.subarray((5 - emptyRows) * 64);
    assert.ok(tail.every((m) => m === 0));
    assert.ok(last.tokens.subarray((5 - emptyRows) * 64).every((t) => t === data.format.pad));
  });
});

describe('training data: determinism', () => {
  it('gives the same batches, byte for byte, for the same corpus and seed; others for another seed or epoch', async () => {
    const corpus = await mine(newTree(fixtureProject()));
    const tok = tokenizers.withFim();
    const make = (seed: number) => prepareTrainingData(corpus, tok, { sequence: 96, batch: 2, seed, fimRate: 0.5 });
    const a = await make(3);
    const b = await make(3);
    const c = await make(4);
    for (const epoch of [0, 1, 2]) assert.ok(batchBytes(a.batches(epoch)).equals(batchBytes(b.batches(epoch))), `epoch ${epoch}`);
    assert.ok(!batchBytes(a.batches(0)).equals(batchBytes(c.batches(0))));
    assert.ok(!batchBytes(a.batches(0)).equals(batchBytes(a.batches(1))));
    // Re-asking for an earlier epoch rebuilds it exactly.
    assert.ok(batchBytes(a.batches(0)).equals(batchBytes(b.batches(0))));
  });

  it('resumes an epoch from a batch index', async () => {
    const data = await prepared({ fimRate: 0.5 });
    const all = [...data.batches(2)];
    const rest = [...data.batches(2, 3)];
    assert.equal(rest.length, all.length - 3);
    assert.ok(batchBytes(rest).equals(batchBytes(all.slice(3))));
  });

  it('keeps validation batches fixed, whatever the training seed, with plain and FIM examples', async () => {
    const corpus = await mine(newTree(fixtureProject()));
    const tok = tokenizers.withFim();
    const a = await prepareTrainingData(corpus, tok, { sequence: 128, batch: 2, seed: 1 });
    const b = await prepareTrainingData(corpus, tok, { sequence: 128, batch: 2, seed: 2 });
    assert.ok(a.validationBatches().length > 0);
    assert.equal(a.validationBatches(), a.validationBatches(), 'built once');
    assert.ok(batchBytes(a.validationBatches()).equals(batchBytes(b.validationBatches())));
    assert.equal(a.report.counts.validationBatches, a.validationBatches().length);
    const kinds = new Set(a.validationPlan().examples.map((e) => e.kind));
    assert.ok(kinds.has('fim') && kinds.has('plain'), [...kinds].join());
    const validationDocs = new Set(a.validationPlan().examples.map((e) => a.documents[e.doc]!.split));
    assert.deepEqual([...validationDocs], ['validation']);
    assert.equal(VALIDATION_SEED, 0x5eed);
  });
});

describe('training data: files that changed since mining', () => {
  it('skips a file that now holds a secret, a vanished one, a grown one and one that is no longer text', async () => {
    const root = newTree(fixtureProject());
    const corpus = await mine(root);
    const train = corpus.files.filter((f) => f.split === 'train' && f.path.endsWith('.ts'));
    const [secret, gone, grown, binary, edited] = train;
    const token = 'ghp_' + 'aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5';
    const original = fs.readFileSync(path.join(root, secret!.path), 'utf8');
    // Same size as mined: only the secret scan can catch it.
    const withSecret = `const t = "${token}";\n` + original.slice(`const t = "${token}";\n`.length);
    fs.writeFileSync(path.join(root, secret!.path), withSecret);
    fs.rmSync(path.join(root, gone!.path));
    fs.appendFileSync(path.join(root, grown!.path), '// one more line\n');
    fs.writeFileSync(path.join(root, binary!.path), Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0, 0, 0, 1]));
    const editedText = fs.readFileSync(path.join(root, edited!.path), 'utf8').replace(/\d/, 'x');
    fs.writeFileSync(path.join(root, edited!.path), editedText);

    const data = await prepareTrainingData(corpus, tokenizers.withFim(), { sequence: 128, batch: 2 });
    const reasons = Object.fromEntries(data.report.skipped.map((s) => [s.path, s.reason]));
    assert.deepEqual(reasons, { [secret!.path]: 'secret', [gone!.path]: 'vanished', [grown!.path]: 'grew', [binary!.path]: 'not-text' });
    const detail = data.report.skipped.find((s) => s.reason === 'secret')!.detail;
    assert.match(detail, /GitHub token on line 1/);
    assert.ok(!detail.includes(token.slice(4)));
    const used = new Set(data.documents.map((d) => d.path));
    for (const f of [secret, gone, grown, binary]) assert.ok(!used.has(f!.path));
    assert.deepEqual(data.report.changed, [edited!.path]);
    assert.equal(data.report.counts.trainFiles, corpus.files.filter((f) => f.split === 'train').length - 4);
    // Nothing of the secret reaches a batch.
    const tok = tokenizers.withFim();
    const needle = tok.encode(token, { plain: true });
    for (const b of data.batches(0)) assert.ok(!Buffer.from(b.tokens.buffer).includes(Buffer.from(Int32Array.from(needle).buffer)));
  });

  it('says what to do when no training file is left', async () => {
    const root = newTree(fixtureProject());
    const corpus = await mine(root);
    for (const f of corpus.files) if (f.split === 'train') fs.rmSync(path.join(root, f.path));
    await assert.rejects(prepareTrainingData(corpus, tokenizers.withFim(), { sequence: 128, batch: 2 }), (e: unknown) => e instanceof TailorError && e.code === 'train/no-files' && /Mine the workspace again/.test(e.fix));
  });

  it('says when no file is in the model\'s languages', async () => {
    const corpus = await mine(newTree(fixtureProject()));
    await assert.rejects(
      prepareTrainingData(corpus, tokenizers.withFim(), { sequence: 128, batch: 2, languages: ['Haskell'] }),
      (e: unknown) => e instanceof TailorError && e.code === 'train/no-files' && /Haskell/.test(e.message),
    );
    // The validation files' languages and TypeScript: the other files are left out, with why.
    const languages = [...new Set(['TypeScript', ...corpus.files.filter((f) => f.split === 'validation').map((f) => f.language)])];
    const data = await prepareTrainingData(corpus, tokenizers.withFim(), { sequence: 32, batch: 1, languages });
    const left = corpus.files.filter((f) => !languages.includes(f.language)).map((f) => f.path);
    assert.ok(left.length > 0);
    assert.deepEqual(data.report.skipped.map((s) => [s.path, s.reason]), left.map((p) => [p, 'language']));
    assert.ok(data.documents.every((d) => languages.includes(d.language)));
  });
});

describe('training data: errors and limits', () => {
  it('refuses a workspace too small to make one batch, with a fix', async () => {
    await assert.rejects(
      prepared({ sequence: 4096, batch: 64 }),
      (e: unknown) => e instanceof TailorError && e.code === 'train/too-small' && /lower the batch size or the sequence length/.test(e.fix),
    );
  });

  it('refuses settings that cannot work', async () => {
    await assert.rejects(prepared({ sequence: 8 }), (e: unknown) => e instanceof TailorError && e.code === 'train/bad-option');
    await assert.rejects(prepared({ fimRate: 1.5 }), (e: unknown) => e instanceof TailorError && e.code === 'train/bad-option');
  });

  it('can be cancelled while it reads', async () => {
    const tree = fixtureProject();
    for (let i = 0; i < 300; i++) tree[`gen/m${i}.ts`] = codeFile(1000 + i, 60);
    const corpus = await mine(newTree(tree));
    const controller = new AbortController();
    const run = prepareTrainingData(corpus, tokenizers.withFim(), { sequence: 128, batch: 2, signal: controller.signal, onProgress: () => controller.abort() });
    await assert.rejects(run, (e: unknown) => isCancelled(e));
  });

  it('prepares the sample workspace, with counts that add up and token ids the model has', async () => {
    const corpus = await mine(SAMPLES);
    const tok = tokenizers.withFim();
    const data = await prepareTrainingData(corpus, tok, { sequence: 256, batch: 4, seed: 1 });
    const c = data.report.counts;
    assert.equal(c.trainFiles + c.validationFiles + data.report.skipped.length, corpus.files.length);
    assert.equal(c.trainTokens, data.documents.filter((d) => d.split === 'train').reduce((n, d) => n + d.ids.length, 0));
    let batches = 0;
    for (const b of data.batches(0)) {
      batches++;
      assert.ok(b.tokens.every((t) => t >= 0 && t < tok.vocabSize) && b.targets.every((t) => t >= 0 && t < tok.vocabSize));
    }
    assert.equal(batches, data.batchesPerEpoch);
    assert.equal(c.validationBatches, data.validationBatches().length);
    assert.ok(c.documentBytes > 0 && c.documentBytes < 16 * (c.trainTokens + c.validationTokens));
  });
});
