/**
 * Inline completions in the extension host: the provider, given a real document and cursor, answers with the text
 * the seeded model gives there (computed before VS Code started, by test/integration/completionFixture.ts), for
 * the base model and for each adapter; a folder's adapter serves only that folder's files (multi-root); switching
 * adapters back and forth never loads the model or creates a session again (the serve worker's counters, read
 * through the extension's exported test hooks). run.mjs prepares the model, the adapters (in the extension's
 * global storage) and tailor.model.path; without TAILOR_COMPLETION_FIXTURE these tests are skipped.
 */
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as vscode from 'vscode';
import type { TailorApi } from '../../../src/extension';
import type { CompletionFixture, Spot } from '../completionFixture';
import { EXTENSION_ID } from './helpers';

const fixtureFile = process.env.TAILOR_COMPLETION_FIXTURE;

function tokenSource(): vscode.CancellationTokenSource {
  return new vscode.CancellationTokenSource();
}

async function complete(api: TailorApi, spot: Spot): Promise<string | undefined> {
  const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(spot.file));
  const source = tokenSource();
  const items = await api.testHooks.provider.provideInlineCompletionItems(
    doc,
    new vscode.Position(spot.line, spot.character),
    { triggerKind: vscode.InlineCompletionTriggerKind.Invoke, selectedCompletionInfo: undefined, requestUuid: 'test', requestIssuedDateTime: Date.now(), earliestShownDateTime: Date.now() } as unknown as vscode.InlineCompletionContext,
    source.token,
  );
  source.dispose();
  const text = items?.[0]?.insertText;
  return typeof text === 'string' ? text : text?.value;
}

(fixtureFile ? describe : describe.skip)('inline completions', () => {
  let fixture: CompletionFixture;
  let api: TailorApi;
  let alpha: Spot;
  let beta: Spot;

  before(async () => {
    fixture = JSON.parse(fs.readFileSync(fixtureFile!, 'utf8')) as CompletionFixture;
    api = (await vscode.extensions.getExtension<TailorApi>(EXTENSION_ID)!.activate())!;
    assert.ok(api?.testHooks, 'the extension exports no test hooks');
    [alpha, beta] = fixture.spots as [Spot, Spot];
  });

  it('uses the model directory of tailor.model.path and finds the stored adapters', async () => {
    const serving = api.testHooks.serving;
    assert.equal(serving.modelDir(), fixture.modelDir);
    const service = await serving.ensure();
    assert.ok(service, `the model did not load: ${JSON.stringify(serving.state)}`);
    assert.equal(serving.state.kind, 'ready');
    assert.deepEqual(
      serving.fittingAdapters().map((r) => r.id).sort(),
      fixture.adapters.map((a) => a.id).sort(),
      `the adapters in ${serving.store.root} that fit the model`,
    );
  });

  it('completes with the base model exactly as the seeded model does', async () => {
    await api.testHooks.serving.setAdapter(alpha.folder, null);
    assert.equal(await complete(api, alpha), alpha.expected.base);
  });

  it('switches adapters per folder with no reload, and switching back restores the base completion', async () => {
    const serving = api.testHooks.serving;
    const before = await serving.stats();
    assert.ok(before, 'no serve statistics');
    const [a, b] = fixture.adapters as unknown as [{ id: string }, { id: string }];
    await serving.setAdapter(alpha.folder, a.id);
    assert.equal(await complete(api, alpha), alpha.expected[a.id], 'alpha with adapter A');
    // Another folder keeps its own choice (the base model).
    assert.equal(await complete(api, beta), beta.expected.base, 'beta still on the base model');
    await serving.setAdapter(beta.folder, b.id);
    assert.equal(await complete(api, beta), beta.expected[b.id], 'beta with adapter B');
    assert.equal(await complete(api, alpha), alpha.expected[a.id], 'alpha keeps adapter A');
    await serving.setAdapter(alpha.folder, b.id);
    assert.equal(await complete(api, alpha), alpha.expected[b.id], 'alpha with adapter B');
    await serving.setAdapter(alpha.folder, null);
    await serving.setAdapter(beta.folder, null);
    assert.equal(await complete(api, alpha), alpha.expected.base, 'alpha back on the base model');
    assert.equal(await complete(api, beta), beta.expected.base, 'beta back on the base model');
    const after = await serving.stats();
    assert.ok(after);
    assert.equal(after.modelLoads, 1, 'the model was loaded once');
    assert.equal(after.sessionsCreated, 1, 'one ONNX Runtime session served every adapter');
    assert.equal(after.modelLoads, before.modelLoads);
    assert.equal(after.sessionsCreated, before.sessionsCreated);
  });

  it('answers nothing for a language turned off with tailor.completions.enabled', async () => {
    const config = vscode.workspace.getConfiguration('tailor.completions', { languageId: 'python' });
    await config.update('enabled', false, vscode.ConfigurationTarget.Global, true);
    try {
      const deadline = Date.now() + 5000;
      while (vscode.workspace.getConfiguration('tailor.completions', { languageId: 'python' }).get('enabled') !== false && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      assert.equal(await complete(api, beta), undefined, 'Python is off');
      assert.equal(await complete(api, alpha), alpha.expected.base, 'TypeScript is still on');
    } finally {
      await config.update('enabled', undefined, vscode.ConfigurationTarget.Global, true);
    }
  });
});
