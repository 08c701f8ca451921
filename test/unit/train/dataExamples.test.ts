import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { seededRandom } from '../../../src/serve/sampling';
import { chooseMiddle, streamRandom, tokenizeDocument } from '../../../src/train/dataExamples';
import { commentHeader } from '../../../src/train/dataFormat';
import { codeFile } from '../fixtureTree';
import { tinyTokenizers } from './dataFixture';

const tokenizers = tinyTokenizers();

describe('choosing the middle', () => {
  const text = codeFile(5, 60);

  it('starts after the indentation or inside a line, and ends at the end of a line, before its newline', () => {
    const random = seededRandom(1);
    let singleLine = 0;
    let block = 0;
    let midLine = 0;
    for (let i = 0; i < 400; i++) {
      const span = chooseMiddle(text, random)!;
      const middle = text.slice(span.start, span.end);
      assert.ok(middle.trim().length > 0, 'the middle has code in it');
      assert.equal(text[span.end], '\n', 'the suffix starts with the newline');
      const lineStart = text.lastIndexOf('\n', span.start - 1) + 1;
      const before = text.slice(lineStart, span.start);
      if (/^[ \t]*$/.test(before)) assert.ok(!/^[ \t]/.test(middle), 'a middle at a line start begins after the indentation');
      else midLine++;
      if (middle.includes('\n')) block++;
      else singleLine++;
    }
    assert.ok(singleLine > 100 && block > 100 && midLine > 100, JSON.stringify({ singleLine, block, midLine }));
  });

  it('keeps the suffix non-empty, so the prompt is a FIM prompt, and gives up on blank text', () => {
    // The last line has no newline: a middle there would leave an empty suffix.
    const random = seededRandom(2);
    for (let i = 0; i < 50; i++) {
      const span = chooseMiddle('a = 1\nb = 2', random)!;
      assert.equal(span.end, 5);
    }
    assert.equal(chooseMiddle('only line', random), null);
    assert.equal(chooseMiddle('\n   \n\t\n', random), null);
  });

  it('ends before a CRLF and never splits a surrogate pair', () => {
    const random = seededRandom(3);
    const crlf = 'let a = 1;\r\nlet b = "😀😀😀😀";\r\nlet c = 3;\r\n';
    for (let i = 0; i < 200; i++) {
      const span = chooseMiddle(crlf, random)!;
      assert.equal(crlf.slice(span.end, span.end + 2), '\r\n');
      const code = crlf.charCodeAt(span.start);
      assert.ok(!(code >= 0xdc00 && code <= 0xdfff), 'the prefix ends in half a character');
    }
  });

  it('draws the same spans from the same seed, epoch and stream', () => {
    const draw = (epoch: number) => {
      const random = streamRandom(9, epoch, 1003);
      return Array.from({ length: 20 }, () => JSON.stringify(chooseMiddle(text, random)));
    };
    assert.deepEqual(draw(0), draw(0));
    assert.notDeepEqual(draw(0), draw(1));
  });
});

describe('tokenizing a document', () => {
  it('is one chunk without a budget: header, text, end token', () => {
    const tok = tokenizers.withFim();
    const text = codeFile(8, 50);
    const doc = tokenizeDocument(tok, text, [326, 1, 2], 320, null, { chars: 0, tokens: 0 });
    assert.deepEqual([...doc.ids], [326, 1, 2, ...tok.encode(text, { plain: true }), 320]);
    assert.deepEqual([...doc.chunkTokens], [0, doc.ids.length]);
    assert.deepEqual([...doc.chunkBytes], [0, Buffer.byteLength(text)]);
  });

  it('cuts a long file at line starts into chunks within the budget, each tokenized on its own', () => {
    const tok = tokenizers.withFim();
    const text = codeFile(9, 200) + 'const long = "' + 'x'.repeat(300) + '";\nexport default long;\n';
    const ratio = { chars: 0, tokens: 0 };
    const doc = tokenizeDocument(tok, text, [326], 320, 100, ratio);
    const chunks = doc.chunkTokens.length - 1;
    assert.ok(chunks > 5, `${chunks} chunks`);
    const bytes = Buffer.from(text);
    let joined = '';
    for (let c = 0; c < chunks; c++) {
      const piece = bytes.subarray(doc.chunkBytes[c]!, doc.chunkBytes[c + 1]!).toString('utf8');
      assert.ok(c === 0 || joined.endsWith('\n'), 'chunks start at line starts');
      const ids = doc.ids.subarray(doc.chunkTokens[c]! + (c === 0 ? 1 : 0), doc.chunkTokens[c + 1]! - (c === chunks - 1 ? 1 : 0));
      assert.deepEqual([...ids], tok.encode(piece, { plain: true }));
      const oneLine = piece.indexOf('\n') === piece.length - 1;
      assert.ok(ids.length <= 100 || oneLine, `chunk ${c} has ${ids.length} tokens`);
      joined += piece;
    }
    assert.equal(joined, text);
    assert.equal(doc.ids[0], 326);
    assert.equal(doc.ids[doc.ids.length - 1], 320);
    assert.ok(ratio.tokens > 0 && ratio.chars === text.length);
  });
});

describe('file-path headers', () => {
  it('use the comment syntax of the file\'s language, or none', () => {
    assert.equal(commentHeader('src/a.ts', 'TypeScript', 'export'), '// src/a.ts\n');
    assert.equal(commentHeader('app.py', 'Python', 'import os'), '# app.py\n');
    assert.equal(commentHeader('q.sql', 'SQL', 'SELECT'), '-- q.sql\n');
    assert.equal(commentHeader('index.html', 'HTML', '<!doctype html>'), '<!-- index.html -->\n');
    assert.equal(commentHeader('a.css', 'CSS', 'body {'), '/* a.css */\n');
    assert.equal(commentHeader('package.json', 'JSON', '{'), null);
    assert.equal(commentHeader('run.sh', 'Shell', '#!/bin/sh'), null, 'a #! line must stay first');
    assert.equal(commentHeader('pom.xml', 'XML', '<?xml ver'), null, 'an XML declaration must stay first');
    assert.equal(commentHeader('odd-->.html', 'HTML', '<p>'), null, 'a path that would close the comment');
  });
});
