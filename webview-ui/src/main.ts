/** Entry of the corpus report webview (bundled to dist/webview.js). Only the components it uses are imported. */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import '@vscode-elements/elements/dist/vscode-collapsible/index.js';
import '@vscode-elements/elements/dist/vscode-label/index.js';
import '@vscode-elements/elements/dist/vscode-textfield/index.js';
import { CorpusApp } from './app';

const main = document.getElementById('app');
if (main) new CorpusApp(main);
