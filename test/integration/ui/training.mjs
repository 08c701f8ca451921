// UI test of "Train adapter on workspace" end to end in a real VS Code (code-server + Playwright) with a seeded tiny
// model: run the command from the palette, accept the corpus summary, watch the training monitor (its loss chart's
// canvas draws, its step counter advances), cancel, train again (the run continues from its checkpoint), let it
// finish, read the evaluation, undo the automatic activation, press Activate, and see the status bar switch to the
// new adapter. Screenshots of the monitor mid-training and at the end are kept in .cache/test-artifacts/ and
// checked as images (PNG, the right size, not blank). Standalone: `node test/integration/ui/training.mjs`.
import * as assert from 'node:assert/strict';
import * as fs from 'node:fs';
import { createRequire } from 'node:module';
import * as os from 'node:os';
import * as path from 'node:path';
import { inflateSync } from 'node:zlib';
import { pathToFileURL } from 'node:url';
import { artifactsDir, openWorkbench, repoRoot, saveScreenshot } from '../host/codeServer.mjs';
import { COMMAND_LABEL, plain, runFromPalette, waitFor } from './palette.mjs';

const require = createRequire(import.meta.url);
const STEPS = 400;

/** The monitor webview's content frame (VS Code nests it in two iframes). */
async function monitorFrame(page) {
  const found = await waitFor('the training monitor', async () => {
    for (const frame of page.frames()) {
      const title = await frame.locator('main#app h1').first().textContent({ timeout: 500 }).catch(() => null);
      if (title && /Training on|Tailor training/.test(title)) return { ok: true, seen: title, frame };
    }
    return { ok: false, seen: page.frames().length };
  }, 120_000);
  return found.frame;
}

async function stat(frame, label) {
  return plain((await frame.locator(`dd[data-stat="${label}"]`).first().textContent({ timeout: 2000 })) ?? '');
}

/** Pixels of the monitor's loss chart canvas that are not blank. */
async function drawnPixels(frame) {
  return frame.evaluate(() => {
    const canvas = document.querySelector('figure.chart canvas');
    if (!canvas) return 0;
    const ctx = canvas.getContext('2d');
    const data = ctx.getImageData(0, 0, canvas.width, canvas.height).data;
    let n = 0;
    for (let i = 3; i < data.length; i += 4) if (data[i] > 0) n++;
    return n;
  });
}

async function clickInFrame(frame, label) {
  await frame.locator('vscode-button', { hasText: label }).first().click({ timeout: 10_000 });
}

/** Checks a PNG screenshot as an image: its header, its size, and that it is not one flat colour. */
export function checkPng(file, { minWidth = 400, minHeight = 300 } = {}) {
  const buf = fs.readFileSync(file);
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG', `${file} is not a PNG`);
  const width = buf.readUInt32BE(16);
  const height = buf.readUInt32BE(20);
  assert.ok(width >= minWidth && height >= minHeight, `${file} is ${width}×${height}`);
  // The image data: concatenated IDAT chunks, inflated; count distinct bytes as a cheap "not blank" test.
  const chunks = [];
  for (let at = 8; at < buf.length; ) {
    const len = buf.readUInt32BE(at);
    const type = buf.toString('latin1', at + 4, at + 8);
    if (type === 'IDAT') chunks.push(buf.subarray(at + 8, at + 8 + len));
    at += 12 + len;
  }
  const pixels = inflateSync(Buffer.concat(chunks));
  const seen = new Set();
  for (let i = 0; i < pixels.length && seen.size < 64; i += 7) seen.add(pixels[i]);
  assert.ok(seen.size >= 16, `${file} looks blank (${seen.size} distinct byte values)`);
  return { width, height };
}

export async function run() {
  const { writeFixtureWorkspace } = require(path.join(repoRoot, 'out', 'test', 'integration', 'fixtures.js'));
  const { printableTinyModel } = require(path.join(repoRoot, 'out', 'test', 'integration', 'completionFixture.js'));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tailor-ui-train-'));
  const { alpha } = writeFixtureWorkspace(path.join(dir, 'workspace'));
  const model = printableTinyModel(path.join(dir, 'model'));
  const wb = await openWorkbench({
    workspace: alpha,
    extensionDevelopmentPaths: [repoRoot],
    scratchPrefix: 'tailor-ui-train-cs-',
    prepare: async (scratch) => {
      const user = path.join(scratch, 'user-data', 'User');
      fs.mkdirSync(user, { recursive: true });
      fs.writeFileSync(
        path.join(user, 'settings.json'),
        JSON.stringify({ 'tailor.model.path': model.dir, 'tailor.engine.device': 'cpu', 'tailor.training.steps': STEPS, 'tailor.lora.rank': 4, 'workbench.startupEditor': 'none' }, null, 2),
      );
    },
  });
  const page = wb.page;
  fs.mkdirSync(artifactsDir, { recursive: true });
  try {
    // 1. From the palette: the summary, then Start Training.
    let dialog = await runFromPalette(page, COMMAND_LABEL);
    await dialog.locator('.monaco-button', { hasText: 'Start Training' }).first().click();
    let frame = await monitorFrame(page);
    const first = await waitFor('the step counter', async () => {
      const s = await stat(frame, 'Step');
      const m = /^(\d+) \/ (\d+)$/.exec(s);
      return { ok: !!m && Number(m[1]) >= 1, seen: s, step: m ? Number(m[1]) : 0 };
    }, 120_000);
    const later = await waitFor('the step counter advancing', async () => {
      const s = await stat(frame, 'Step');
      const m = /^(\d+) \/ (\d+)$/.exec(s);
      return { ok: !!m && Number(m[1]) > first.step + 2, seen: s, step: m ? Number(m[1]) : 0 };
    }, 120_000);
    console.log(`train: monitor shows step ${first.seen}, then ${later.seen}`);
    const pixels = await waitFor('the loss chart drawing', async () => {
      const n = await drawnPixels(frame);
      return { ok: n > 200, seen: n };
    }, 120_000);
    console.log(`train: the loss chart's canvas has ${pixels.seen} drawn pixels`);
    const mid = path.join(artifactsDir, 'monitor-mid-training.png');
    await page.screenshot({ path: mid });
    console.log(`train: mid-training screenshot ${path.relative(repoRoot, mid)} ${JSON.stringify(checkPng(mid))}`);

    // 2. Cancel.
    await clickInFrame(frame, 'Cancel');
    await waitFor('the run cancelled', async () => {
      const status = plain((await frame.locator('.status').first().textContent()) ?? '');
      return { ok: /cancelled/i.test(status), seen: status };
    }, 30_000);
    const stoppedAt = Number(/^(\d+)/.exec(await stat(frame, 'Step'))?.[1] ?? 0);
    console.log(`train: cancelled at step ${stoppedAt}`);

    // 3. Train again from the monitor: it continues from the checkpoint and runs to the end.
    await clickInFrame(frame, 'Train again');
    dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 120_000 });
    await dialog.locator('.monaco-button', { hasText: 'Start Training' }).first().click();
    frame = await monitorFrame(page);
    await waitFor('the evaluation', async () => {
      const h = await frame.locator('section.evaluation h2').count();
      const status = plain((await frame.locator('.status').first().textContent()) ?? '');
      if (/fail/i.test(status)) return { fatal: `training failed: ${status}` };
      return { ok: h > 0, seen: `${status} / ${await stat(frame, 'Step')}` };
    }, 300_000);
    const evaluation = plain(await frame.locator('section.evaluation').first().innerText());
    console.log(`train: evaluation:\n${evaluation.replace(/^/gm, '    ')}`);
    // Base model against adapter on the validation files: loss, accuracy and completions, each with its interval.
    assert.match(evaluation, /Token loss\s+\d+\.\d{3}\s+\d+\.\d{3}\s+[−+]\d+\.\d{3} \([−+]\d+\.\d{3} to [−+]\d+\.\d{3}\)/);
    assert.match(evaluation, /Single-line exact match\s+\d+\.\d%\s+\d+\.\d%/);
    // This fixture's adapter lowers the held-out loss far beyond noise, so it is judged better and activated.
    assert.match(evaluation, /Better than the base model on \d+ held-out files \(\d+ single-line and \d+ multi-line cursor positions\)/);
    const log = plain(await frame.locator('pre.log').first().innerText());
    assert.match(log, /Resum|checkpoint/i, `the second run continues from the checkpoint; log:\n${log.slice(-800)}`);
    const end = path.join(artifactsDir, 'monitor-finished.png');
    await page.screenshot({ path: end });
    console.log(`train: final screenshot ${path.relative(repoRoot, end)} ${JSON.stringify(checkPng(end))}`);

    // 4. The new adapter became the folder's; Undo puts the base model back; Activate makes it the adapter again.
    const statusItem = page.locator('.statusbar-item[aria-label^="Tailor: "], .statusbar-item [aria-label^="Tailor: "]').first();
    const statusLabel = async () => plain((await statusItem.getAttribute('aria-label')) ?? '');
    const evaluationNote = plain(await frame.locator('section.evaluation').first().innerText());
    const adapterName = /“([^”]+)” is the active adapter of alpha/.exec(evaluationNote)?.[1];
    assert.ok(adapterName, `the monitor says which adapter is active: ${evaluationNote}`);
    await waitFor('the status bar on the new adapter', async () => {
      const l = await statusLabel();
      return { ok: l.includes(adapterName), seen: l };
    }, 15_000);
    // The notification with Undo: a toast while it shows, then in the notification centre.
    let note = page.locator('.notifications-toasts .notification-toast', { hasText: 'is now the adapter of alpha' }).first();
    if (!(await note.isVisible())) {
      await page.keyboard.press('Escape');
      await page.locator('.statusbar-item[aria-label*="otification"], .statusbar-item [aria-label*="otification"]').last().click();
      note = page.locator('.notifications-center .notification-list-item', { hasText: 'is now the adapter of alpha' }).first();
      await note.waitFor({ state: 'visible', timeout: 15_000 });
    }
    await note.locator('.monaco-button', { hasText: 'Undo' }).first().click();
    await waitFor('the status bar back on the base model', async () => {
      const l = await statusLabel();
      return { ok: l.includes('base model'), seen: l };
    }, 15_000);
    await clickInFrame(frame, 'Activate');
    await waitFor('the status bar on the activated adapter', async () => {
      const l = await statusLabel();
      return { ok: l.includes(adapterName), seen: l };
    }, 15_000);
    console.log(`train: Activate switched the status bar to "${await statusLabel()}"`);
    // The monitor has recorded the activation (its state is what a reload restores) before the window reloads.
    await waitFor('the monitor showing the activation', async () => {
      const text = plain(await frame.locator('section.evaluation').first().innerText());
      return { ok: text.includes(`“${adapterName}” is the active adapter of alpha`), seen: text.slice(-200) };
    }, 15_000);
    await page.waitForTimeout(1_000);

    // 5. After a window reload the monitor comes back (its serializer) showing the last training.
    await page.reload({ waitUntil: 'domcontentloaded' });
    await page.locator('.monaco-workbench').first().waitFor({ state: 'visible', timeout: 120_000 });
    frame = await monitorFrame(page);
    await waitFor('the monitor restored after the reload', async () => {
      const text = plain(await frame.locator('main#app').first().innerText());
      return { ok: text.includes('Training on alpha') && text.includes(`“${adapterName}” is the active adapter of alpha`) && /400 \/ 400/.test(text), seen: text.slice(0, 200) };
    }, 60_000);
    console.log('train: after a window reload the monitor shows the finished run again');
  } catch (error) {
    const shot = await saveScreenshot(page, 'ui-training');
    if (shot) console.error(`train: screenshot of the failure: ${shot}`);
    console.error(`train: code-server log (last lines):\n${wb.server.output.slice(-20).join('\n')}`);
    throw error;
  } finally {
    await wb.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  run().then(
    () => console.log('train: PASS'),
    (error) => {
      console.error(`train: FAIL: ${error?.stack ?? error}`);
      process.exitCode = 1;
    },
  );
}
