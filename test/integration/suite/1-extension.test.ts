import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import { COMMAND, EXTENSION_ID } from './helpers';

describe('Tailor in VS Code', () => {
  it('is installed from the development path and activates', async () => {
    const extension = vscode.extensions.getExtension(EXTENSION_ID);
    assert.ok(extension, `extension ${EXTENSION_ID} is not loaded`);
    await extension.activate();
    assert.equal(extension.isActive, true);
  });

  it(`registers ${COMMAND}`, async () => {
    const commands = await vscode.commands.getCommands(true);
    assert.ok(commands.includes(COMMAND), `${COMMAND} is not among the registered commands`);
  });

  it('contributes "Tailor: Train adapter on workspace" to the palette only for a trusted workspace with folders', () => {
    const manifest = vscode.extensions.getExtension(EXTENSION_ID)!.packageJSON as {
      contributes: { commands: Array<{ command: string; title: string; category?: string; enablement?: string }>; menus: { commandPalette: Array<{ command: string; when?: string }> } };
    };
    const command = manifest.contributes.commands.find((c) => c.command === COMMAND);
    assert.ok(command, `package.json contributes no ${COMMAND}`);
    assert.equal(command.category, 'Tailor');
    assert.equal(`${command.category}: ${command.title}`, 'Tailor: Train adapter on workspace');
    assert.match(command.enablement ?? '', /!tailor\.busy/);
    const entry = manifest.contributes.menus.commandPalette.find((m) => m.command === COMMAND);
    assert.ok(entry?.when, `${COMMAND} has no "when" clause in menus.commandPalette`);
    assert.match(entry.when, /workspaceFolderCount > 0/);
    assert.match(entry.when, /isWorkspaceTrusted/);
  });
});
