/**
 * The BPE tokenizer trainer (src/pretrain/bpe.ts): what it writes loads in @huggingface/tokenizers (through
 * Tailor's own loader), detects as the Qwen FIM family, round-trips arbitrary text exactly (every whitespace
 * run, CRLF, tabs, non-ASCII, emoji, control characters), learns the frequent pieces of code, and is deterministic.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { loadTokenizer } from '../../../src/model/tokenizer';
import { byteAlphabet, PieceCounter, SPECIAL_TOKENS, tokenizerFiles, trainBpe } from '../../../src/pretrain/bpe';
import { seeded } from '../fixtureTree';

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-bpe-'));
after(() => fs.rmSync(root, { recursive: true, force: true }));

/** This repository's own sources: real code to learn from. */
function sampleCode(): string[] {
  const dir = path.resolve(__dirname, '../../../../src/serve');
  return fs.readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => fs.readFileSync(path.join(dir, f), 'utf8'));
}

function train(vocab: number) {
  const counter = new PieceCounter();
  for (const doc of sampleCode()) counter.add(doc);
  return trainBpe(counter.counts, vocab);
}

function write(name: string, vocab: number) {
  const files = tokenizerFiles(train(vocab), { modelMaxLength: 1024 });
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'tokenizer.json'), JSON.stringify(files.tokenizerJson));
  fs.writeFileSync(path.join(dir, 'tokenizer_config.json'), JSON.stringify(files.tokenizerConfig));
  return { dir, ...files };
}

describe('BPE tokenizer trainer', () => {
  const made = write('t800', 800);
  const tok = loadTokenizer(made.dir, made.vocabSize);

  it('writes a tokenizer @huggingface/tokenizers loads, with the Qwen FIM tokens after the vocabulary', () => {
    assert.equal(tok.vocabSize, 800 + SPECIAL_TOKENS.length);
    assert.equal(tok.fim?.style, 'qwen');
    assert.equal(tok.tokenId('<|endoftext|>'), 800);
    assert.equal(tok.tokenId('<|file_sep|>'), 806);
    assert.equal(tok.eosTokenId, 800);
  });

  it('round-trips arbitrary text exactly', () => {
    const cases = [
      '',
      ' ',
      '\t\t  \t',
      '\n\n\n',
      '\r\n\r\n  x\r\n',
      '    if (a) {\n        return b;\n    }\n',
      'const s = "naïve café — 日本語 😀 \u0000 \u0007 \u007f";',
      '\u00a0\u2003\u3000 mixed spaces ',
      "it's they'll I'M",
      '0123456789 1e-9 0xFF',
    ];
    const random = seeded(7);
    for (let n = 0; n < 50; n++) {
      let s = '';
      const len = Math.floor(random() * 40);
      for (let i = 0; i < len; i++) {
        // Any code point but the lone surrogates (which no UTF-8 file can hold).
        let cp = Math.floor(random() * 0x10ffff);
        if (cp >= 0xd800 && cp <= 0xdfff) cp = 0x20;
        s += random() < 0.5 ? ' \t\n'[Math.floor(random() * 3)] : String.fromCodePoint(cp);
      }
      cases.push(s);
    }
    for (const text of cases) assert.equal(tok.decode(tok.encode(text, { plain: true })), text, JSON.stringify(text));
  });

  it('learns the frequent pieces of code, and indentation as whole tokens', () => {
    const ids = tok.encode('  return ', { plain: true });
    assert.ok(ids.length <= 3, `"  return " is ${ids.length} tokens`);
    const alphabet = byteAlphabet();
    // A four-space indent before a word is split as three spaces and " word" (Qwen2's pattern): the three are one token.
    const indent = alphabet[0x20]!.repeat(3);
    assert.ok((made.tokenizerJson as { model: { vocab: Record<string, number> } }).model.vocab[indent] !== undefined, 'three spaces are one token');
    assert.equal(tok.encode('    return', { plain: true }).length, 2, 'a four-space indent and "return": two tokens');
    const plainBytes = Buffer.byteLength('export function buildFimPrompt(tokenizer');
    assert.ok(tok.encode('export function buildFimPrompt(tokenizer', { plain: true }).length < plainBytes / 3);
  });

  it('is deterministic', () => {
    assert.deepEqual(train(500).merges, train(500).merges);
  });

  it('stops early when no pair occurs twice', () => {
    const counter = new PieceCounter();
    counter.add('ab cd');
    const bpe = trainBpe(counter.counts, 1000);
    assert.equal(bpe.tokens.length, 256);
  });
});
