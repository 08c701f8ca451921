// Driving the workbench like a person: the command palette, the modal summary dialog, the editor.
import * as assert from 'node:assert/strict';

export const COMMAND_LABEL = 'Tailor: Train adapter on workspace';

/** Monaco renders spaces as U+00A0; compare text with ordinary spaces. */
export const plain = (text) => text.replace(/\u00a0/g, ' ');

/** Opens the command palette (F1), types the label and returns the labels it offers. */
export async function searchPalette(page, label) {
  await page.locator('.monaco-workbench').first().click({ position: { x: 700, y: 450 } }).catch(() => {});
  const input = page.locator('.quick-input-widget input');
  // F1 can be swallowed while the workbench is still starting up; try again until the palette shows.
  for (let attempt = 0; ; attempt++) {
    await page.keyboard.press('F1');
    try {
      await input.waitFor({ state: 'visible', timeout: 5_000 });
      break;
    } catch (error) {
      if (attempt >= 5) throw new Error(`the command palette did not open on F1: ${error.message}`);
    }
  }
  await input.fill(`>${label}`);
  const rows = page.locator('.quick-input-widget .quick-input-list .monaco-list-row');
  await rows.first().waitFor({ state: 'visible', timeout: 10_000 }).catch(() => {});
  // The list filters as the text arrives; give the exact entry a moment before reading the list.
  await rows.filter({ hasText: label }).first().waitFor({ state: 'visible', timeout: 3_000 }).catch(() => {});
  return (await rows.allInnerTexts()).map((t) => plain(t).split('\n')[0].trim());
}

/**
 * Searches the palette until it offers `label`: an extension's commands join the palette only once the extension
 * host has read its manifest, a few seconds after the workbench shows. Returns what the palette offered last.
 */
export async function waitForPaletteEntry(page, label, timeoutMs = 90_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const offered = await searchPalette(page, label);
    if (offered.some((t) => t.startsWith(label)) || Date.now() > deadline) return offered;
    await page.keyboard.press('Escape');
    await page.waitForTimeout(2_000);
  }
}

/** Runs the palette entry `label` and returns the modal dialog that follows. */
export async function runFromPalette(page, label) {
  const offered = await waitForPaletteEntry(page, label);
  assert.ok(
    offered.some((t) => t.startsWith(label)),
    `the command palette does not offer "${label}"; it offers: ${offered.join(' | ') || '(nothing)'}`,
  );
  await page.locator('.quick-input-widget .quick-input-list .monaco-list-row', { hasText: label }).first().click();
  const dialog = page.locator('.monaco-dialog-box');
  // A failure shows an error notification instead of the dialog: report it rather than waiting out the limit.
  const error = page.locator('.notifications-toasts .notification-toast', { has: page.locator('.codicon-error') });
  await Promise.race([
    dialog.waitFor({ state: 'visible', timeout: 180_000 }),
    error.first().waitFor({ state: 'visible', timeout: 180_000 }).catch(() => new Promise(() => {})),
  ]);
  if (!(await dialog.isVisible()) && (await error.count()) > 0) {
    throw new Error(`"${label}" showed an error instead of the summary dialog: ${plain(await error.first().innerText())}`);
  }
  return dialog;
}

/** Checks the corpus summary dialog; returns its text. */
export async function checkSummaryDialog(dialog, { folder, language }) {
  const text = plain(await dialog.innerText());
  assert.match(text, new RegExp(`Tailor: corpus of ${folder}`), `dialog title:\n${text}`);
  const files = /(\d+) files \([\d.]+ (?:B|KiB|MiB|GiB)\) to train on; (\d+) left out, (\d+) of them for secrets\./.exec(text);
  assert.ok(files, `the dialog has no "N files (…) to train on" line:\n${text}`);
  assert.ok(Number(files[1]) > 0, 'some files to train on');
  assert.match(text, new RegExp(`Languages: [^\\n]*\\b${language}\\b`), `the dialog should name ${language}:\n${text}`);
  assert.match(text, /Split: \d+ training files/);
  assert.match(text, /Training runs on the (?:CPU|GPU)|Tailor has no base model/);
  return text;
}

/** The text report in the active editor: waits for it and checks its first line; returns the visible text. */
async function checkReportEditor(page, folder) {
  const tab = page.locator('.tabs-container .tab', { hasText: 'Corpus report.txt' });
  await tab.first().waitFor({ state: 'visible', timeout: 30_000 });
  const lines = page.locator('.editor-group-container.active .monaco-editor .view-lines');
  await lines.filter({ hasText: 'Tailor corpus report' }).first().waitFor({ state: 'visible', timeout: 30_000 });
  const text = plain(await lines.first().innerText());
  assert.match(text, new RegExp(`Tailor corpus report: ${folder}`), `editor text:\n${text.slice(0, 400)}`);
  return text;
}

/**
 * Clicks "Show Files" and checks what opens: the text report in an editor, or the corpus report panel (a webview
 * headed "Corpus of <folder>") whose "Open as Text" then opens the text report. Returns which it was and the text
 * report's visible lines.
 */
export async function showFiles(page, dialog, folder) {
  await dialog.locator('.monaco-button', { hasText: 'Show Files' }).first().click();
  await dialog.waitFor({ state: 'hidden', timeout: 30_000 });
  const textTab = page.locator('.tabs-container .tab', { hasText: 'Corpus report.txt' }).first();
  const panelTab = page.locator('.tabs-container .tab', { hasText: `Corpus of ${folder}` }).first();
  await Promise.race([
    textTab.waitFor({ state: 'visible', timeout: 30_000 }),
    panelTab.waitFor({ state: 'visible', timeout: 30_000 }),
  ]).catch(() => {
    throw new Error(`"Show Files" opened neither the text report ("Corpus report.txt") nor a "Corpus of ${folder}" panel`);
  });
  const viaPanel = await panelTab.isVisible();
  if (viaPanel) {
    const panel = page.locator('iframe.webview.ready').last().contentFrame().frameLocator('iframe#active-frame');
    const heading = panel.getByRole('heading', { name: `Corpus of ${folder}` });
    await heading.first().waitFor({ state: 'visible', timeout: 30_000 });
    await panel.getByRole('button', { name: 'Open as Text' }).first().click();
  }
  return { via: viaPanel ? `the "Corpus of ${folder}" panel, then "Open as Text"` : 'the text report', text: await checkReportEditor(page, folder) };
}

/**
 * Polls `probe` until it answers `{ ok: true }`; throws after `timeoutMs` with what it saw last, or at once when it
 * answers `{ fatal: "why" }`. A probe that throws (an element detached mid-read) is asked again.
 */
export async function waitFor(what, probe, timeoutMs = 60_000, everyMs = 250) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const last = await probe().catch((e) => ({ ok: false, seen: String(e?.message ?? e).split('\n')[0] }));
    if (last.fatal) throw new Error(`${what}: ${last.fatal}`);
    if (last.ok) return last;
    if (Date.now() > deadline) throw new Error(`${what}: gave up after ${timeoutMs / 1000} s (last seen: ${JSON.stringify(last.seen)})`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
