/**
 * The embedded model as shipped in models/tailor-coder-mini: its tokenizer loads in @huggingface/tokenizers and
 * round-trips any text (every kind of whitespace, text decoded from invalid UTF-8, every byte value); the model
 * loads, stays under 40 MB as F16 and has the fingerprint its model card states; and it completes a fixture prompt
 * with Tailor's serving code on ONNX Runtime.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { Tokenizer } from '@huggingface/tokenizers';
import { cardFingerprint } from '../../../src/pretrain/card';
import { embeddedModelDir } from '../../../src/model/embedded';
import { loadModelDir } from '../../../src/model/modelDir';
import { LlamaSession } from '../../../src/runtime/llamaSession';
import { createOrtEngine } from '../../../src/runtime/ortEngine';
import { Completer } from '../../../src/serve/completer';
import { Generator } from '../../../src/serve/generate';
import { seeded } from '../fixtureTree';

const repo = path.resolve(__dirname, '../../../..');
const dir = path.join(repo, 'models', 'tailor-coder-mini');
const cache = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-shipped-'));
after(() => fs.rmSync(cache, { recursive: true, force: true }));

describe('the shipped embedded model', () => {
  const model = loadModelDir(dir);
  const tok = model.tokenizer;

  it('is the model Tailor finds by default, a Llama with tied embeddings, under 40 MB as F16', () => {
    assert.equal(embeddedModelDir(repo), dir);
    assert.equal(model.config.tieWordEmbeddings, true);
    assert.equal(model.config.torchDtype, 'float16');
    assert.ok(fs.statSync(path.join(dir, 'model.safetensors')).size < 40e6);
    for (const name of model.weights.names()) assert.equal(model.weights.info(name).dtype, 'F16', name);
    assert.equal(tok.fim?.style, 'qwen', 'Qwen2.5-Coder FIM tokens');
  });

  it('has the fingerprint its model card states', () => {
    const card = fs.readFileSync(path.join(dir, 'README.md'), 'utf8');
    assert.equal(cardFingerprint(card), model.fingerprint);
  });

  it('its tokenizer loads in @huggingface/tokenizers and round-trips any text', () => {
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer.json'), 'utf8'));
    const config = JSON.parse(fs.readFileSync(path.join(dir, 'tokenizer_config.json'), 'utf8'));
    const hf = new Tokenizer(json, config);
    const whitespace = '\t\n\u000b\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000\ufeff';
    const cases = [
      whitespace,
      [...whitespace].join('x'),
      '        \n\t\t\t\n    \r\n',
      // Text decoded from bytes that are not UTF-8: the decoder's replacement characters, as the editor would hold them.
      Buffer.from([0x66, 0xff, 0xfe, 0xc3, 0x28, 0xe2, 0x82, 0x20, 0xf0, 0x9f, 0x98]).toString('utf8'),
      'def f(x):\n    return {"k": [x, 1e-9, 0xFF]}  # naïve 日本語 😀\n',
      'export const add = (a: number, b: number): number => a + b;\n',
    ];
    const random = seeded(11);
    for (let n = 0; n < 40; n++) {
      let s = '';
      for (let i = Math.floor(random() * 60); i > 0; i--) {
        let cp = Math.floor(random() * 0x10ffff);
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0xfffd;
        s += random() < 0.4 ? whitespace[Math.floor(random() * whitespace.length)]! : String.fromCodePoint(cp);
      }
      cases.push(s);
    }
    for (const text of cases) {
      const ids = tok.encode(text, { plain: true });
      assert.equal(tok.decode(ids), text, JSON.stringify(text));
      assert.equal(hf.decode(hf.encode(text).ids), text, `@huggingface/tokenizers: ${JSON.stringify(text)}`);
    }
    // Every byte has a token of its own, so any bytes at all can be encoded; half a character decodes to U+FFFD.
    const emoji = tok.encode('😀', { plain: true });
    assert.ok(emoji.length >= 1);
    const bytes = Buffer.from('😀', 'utf8');
    const perByte = [...bytes].map((b) => tok.encode(Buffer.from([b]).toString('latin1'), { plain: true }));
    assert.equal(perByte.length, 4);
    assert.doesNotThrow(() => tok.decode(emoji.slice(0, 1)));
  });

  it('completes a fixture prompt with the serving code', async () => {
    const engine = await createOrtEngine({ device: 'cpu', threads: 1 });
    const session = await LlamaSession.open(engine, model, { cacheDir: cache, logits: 'last' });
    try {
      const completer = new Completer(new Generator(session, engine, tok), tok, () => {
        throw new Error('no adapters here');
      }, { eosTokenIds: model.config.eosTokenIds });
      const request = {
        prefix: 'export function sum(values: number[]): number {\n  let total = 0;\n  for (const value of values) {\n    total += ',
        suffix: '\n  }\n  return total;\n}\n',
        header: { path: 'src/sum.ts', languageId: 'typescript' },
        adapterId: null,
        maxTokens: 16,
      };
      const first = await completer.complete(request);
      assert.equal(first.mode, 'single-line');
      assert.ok(first.generation.tokens > 0, 'it generated');
      assert.ok(first.text === null || (first.text.length > 0 && !first.text.includes('\n')), JSON.stringify(first.text));
      assert.deepEqual((await completer.complete(request)).text, first.text, 'greedy: the same prompt, the same completion');
    } finally {
      await session.dispose();
    }
  });
});
