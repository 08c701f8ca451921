import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadTokenizer } from '../../../src/model/tokenizer';
import { treeMaker } from '../fixtureTree';
import { expectTailorError } from './expectTailorError';
import { TOKENIZER_SAMPLE, tinyTokenizer } from './tinyModel';

const newTree = treeMaker();

interface Json {
  added_tokens: Array<{ id: number; content: string; special: boolean }>;
  model: { vocab: Record<string, number> };
}

/** A model-less directory with the tiny tokenizer, its added tokens replaced by `added` and vocabulary grown by `vocab`. */
function tokenizerDir(options: { added?: string[]; vocab?: string[]; config?: object | null } = {}): string {
  const { tokenizerJson, tokenizerConfig } = tinyTokenizer();
  const json = structuredClone(tokenizerJson) as Json;
  let next = Object.keys(json.model.vocab).length;
  for (const v of options.vocab ?? []) json.model.vocab[v] = next++;
  if (options.added) {
    json.added_tokens = options.added.map((content) => ({ id: next++, content, single_word: false, lstrip: false, rstrip: false, normalized: false, special: true }));
  }
  const files: Record<string, string> = { 'tokenizer.json': JSON.stringify(json) };
  if (options.config !== null) files['tokenizer_config.json'] = JSON.stringify(options.config ?? tokenizerConfig);
  return newTree(files);
}

describe('tokenizer', () => {
  it('loads the tiny tokenizer: size, special tokens, BOS/EOS, Qwen FIM tokens', () => {
    const t = loadTokenizer(tokenizerDir(), 384);
    assert.equal(t.vocabSize, 327);
    assert.equal(t.eosTokenId, 320);
    assert.equal(t.padTokenId, 320);
    assert.equal(t.bosTokenId, null);
    assert.equal(t.addBosToken, false);
    assert.deepEqual(t.addedTokens.get('<|file_sep|>'), { id: 326, content: '<|file_sep|>', special: true });
    assert.equal(t.tokenId('<|fim_middle|>'), 322);
    assert.equal(t.tokenText(321), '<|fim_prefix|>');
    assert.ok(t.isSpecial(320) && !t.isSpecial(100));
    assert.deepEqual(t.fim, {
      style: 'qwen',
      prefix: { id: 321, content: '<|fim_prefix|>' },
      suffix: { id: 323, content: '<|fim_suffix|>' },
      middle: { id: 322, content: '<|fim_middle|>' },
      pad: { id: 324, content: '<|fim_pad|>' },
      fileSeparator: { id: 326, content: '<|file_sep|>' },
      repoName: { id: 325, content: '<|repo_name|>' },
      endOfText: { id: 320, content: '<|endoftext|>' },
    });
  });

  it('encodes and decodes code exactly, spaces and all', () => {
    const t = loadTokenizer(tokenizerDir());
    for (const text of [TOKENIZER_SAMPLE, 'a  .b ( x ) ;\n\n\tz', 'naïve ✓ 日本 🙂', ' leading space']) {
      assert.equal(t.decode(t.encode(text)), text);
    }
    assert.deepEqual(t.encode(''), []);
    assert.equal(t.decode([]), '');
  });

  it('turns special tokens in text into their ids, unless asked to encode plain text', () => {
    const t = loadTokenizer(tokenizerDir());
    const text = 'x<|endoftext|>y';
    const ids = t.encode(text);
    assert.deepEqual(ids, [...t.encode('x'), 320, ...t.encode('y')]);
    const plain = t.encode(text, { plain: true });
    assert.ok(!plain.includes(320) && plain.length > 3);
    assert.equal(t.decode(plain), text);
    assert.equal(t.decode(ids, { skipSpecialTokens: true }), 'xy');
    assert.deepEqual(t.encode(TOKENIZER_SAMPLE, { plain: true }), t.encode(TOKENIZER_SAMPLE), 'plain and parsed agree on ordinary text');
  });

  it('decodes ids in the embedding padding to nothing', () => {
    const t = loadTokenizer(tokenizerDir());
    assert.equal(t.decode([...t.encode('ab'), 350, 383]), 'ab');
  });

  it('works without tokenizer_config.json', () => {
    const t = loadTokenizer(tokenizerDir({ config: null }));
    assert.equal(t.eosTokenId, null);
    assert.equal(t.fim?.style, 'qwen');
    assert.equal(t.decode(t.encode('a . b')), 'a . b');
  });

  it('detects StarCoder, DeepSeek-Coder and CodeLlama FIM tokens, and none', () => {
    const star = loadTokenizer(tokenizerDir({ added: ['<|endoftext|>', '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<fim_pad>', '<repo_name>', '<file_sep>'], config: {} })).fim!;
    assert.equal(star.style, 'starcoder');
    assert.deepEqual([star.prefix.id, star.middle.id, star.suffix.id, star.pad?.id, star.repoName?.id, star.fileSeparator?.id, star.endOfText?.id], [321, 322, 323, 324, 325, 326, 320]);
    const deepseek = loadTokenizer(tokenizerDir({ added: ['<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<｜fim▁hole｜>', '<｜fim▁begin｜>', '<｜fim▁end｜>'], config: {} })).fim!;
    assert.deepEqual(
      { style: deepseek.style, prefix: deepseek.prefix.content, suffix: deepseek.suffix.content, middle: deepseek.middle.content, eot: deepseek.endOfText?.id, pad: deepseek.pad },
      { style: 'deepseek', prefix: '<｜fim▁begin｜>', suffix: '<｜fim▁hole｜>', middle: '<｜fim▁end｜>', eot: 321, pad: null },
    );
    // CodeLlama's FIM tokens are ordinary vocabulary entries, not added tokens.
    const codellama = loadTokenizer(tokenizerDir({ vocab: ['▁<PRE>', '▁<SUF>', '▁<MID>', '▁<EOT>'], added: [], config: {} })).fim!;
    assert.deepEqual([codellama.style, codellama.prefix.id, codellama.suffix.id, codellama.middle.id, codellama.endOfText?.id], ['codellama', 320, 321, 322, 323]);
    assert.equal(loadTokenizer(tokenizerDir({ added: ['<|endoftext|>'], config: {} })).fim, null);
  });

  it('reads BOS and EOS written as objects in tokenizer_config.json', () => {
    const t = loadTokenizer(tokenizerDir({ config: { bos_token: { content: '<|repo_name|>', special: true }, eos_token: { content: '<|file_sep|>' }, add_bos_token: true } }));
    assert.deepEqual([t.bosTokenId, t.eosTokenId, t.addBosToken], [325, 326, true]);
  });
});

describe('tokenizer errors', () => {
  it('no tokenizer.json, saying when only slow-tokenizer files are there', () => {
    const empty = newTree({});
    expectTailorError(() => loadTokenizer(empty), 'model/tokenizer-missing', `${empty} has no tokenizer.json.`);
    const slow = newTree({ 'vocab.json': '{}', 'merges.txt': '' });
    const error = expectTailorError(() => loadTokenizer(slow), 'model/tokenizer-missing', /only vocab\.json/);
    assert.match(error.fix, /save_pretrained/);
  });

  it('a corrupt tokenizer.json or tokenizer_config.json', () => {
    const cases: Array<[Record<string, string>, string, RegExp]> = [
      [{ 'tokenizer.json': '{"model": {' }, 'tokenizer.json', /not valid JSON/],
      [{ 'tokenizer.json': '[]' }, 'tokenizer.json', /not a JSON object/],
      [{ 'tokenizer.json': '{"version": "1.0"}' }, 'tokenizer.json', /no model vocabulary/],
      [{ 'tokenizer.json': JSON.stringify({ model: { type: 'Nope', vocab: { a: 0 } } }) }, 'tokenizer.json', /model type "Nope"/],
      [{ 'tokenizer.json': JSON.stringify({ model: { type: 'BPE', vocab: { a: 0 }, merges: 5 } }) }, 'tokenizer.json', /not a usable tokenizer/],
      [{ 'tokenizer.json': JSON.stringify({ ...tinyTokenizer().tokenizerJson, decoder: { type: 'Mystery' } }) }, 'tokenizer.json', /not a usable tokenizer: .*Mystery/],
      [{ 'tokenizer.json': JSON.stringify(tinyTokenizer().tokenizerJson), 'tokenizer_config.json': '{,}' }, 'tokenizer_config.json', /not valid JSON/],
    ];
    for (const [files, name, pattern] of cases) {
      const dir = newTree(files);
      expectTailorError(() => loadTokenizer(dir), 'model/tokenizer-corrupt', path.join(dir, name), pattern);
    }
  });

  it('a vocabulary larger than config.json vocab_size', () => {
    const dir = tokenizerDir();
    expectTailorError(() => loadTokenizer(dir, 320), 'model/tokenizer-vocab-mismatch', `${path.join(dir, 'tokenizer.json')} has 327 tokens but config.json's vocab_size is 320.`);
    assert.equal(loadTokenizer(dir, 327).vocabSize, 327);
  });
});
