/**
 * The corpus report app: the overview (header, headline numbers, languages, frameworks) and one paged list per
 * group (secrets, included files, one per reason for leaving files out). Lists ask the host for one page at a time.
 */
import type { VscodeButton } from '@vscode-elements/elements/dist/vscode-button/vscode-button.js';
import type { VscodeCollapsible } from '@vscode-elements/elements/dist/vscode-collapsible/vscode-collapsible.js';
import type { VscodeTextfield } from '@vscode-elements/elements/dist/vscode-textfield/vscode-textfield.js';
import {
  isCorpusViewMessage,
  MAX_FILTER_LENGTH,
  type CorpusGroupId,
  type CorpusGroupInfo,
  type CorpusOverview,
  type CorpusRow,
  type CorpusViewMessage,
} from '../../src/train/protocol';
import { append, clear, h } from './dom';
import { countOf, formatBytes, formatCount, formatDuration, formatShare, groupDescription, PAGE_SIZE, pager } from './format';
import { loadState, post, saveState, type ViewState } from './vscodeApi';

/** Groups whose every path holds a secret: said once above the list, as well as on each row. */
const SECRET_GROUPS = new Set<CorpusGroupId>(['secrets', 'secret-file', 'secret-content']);
const FILTER_DELAY_MS = 150;

function button(id: string, label: string, secondary = false): VscodeButton {
  const b = h('vscode-button', { id: id || undefined, secondary });
  b.textContent = label;
  return b;
}

export class CorpusApp {
  private state: ViewState;
  private readonly lists = new Map<CorpusGroupId, GroupList>();
  private lastRequestId = 0;
  private countsRequestId = 0;
  private filterTimer: ReturnType<typeof setTimeout> | undefined;
  private noticeTimer: ReturnType<typeof setTimeout> | undefined;
  private busy = false;
  private matchSummary: HTMLElement | undefined;
  private status: HTMLElement | undefined;
  private notice: HTMLElement | undefined;
  private mineButton: VscodeButton | undefined;

  constructor(private readonly main: HTMLElement) {
    this.state = loadState();
    window.addEventListener('message', (event: MessageEvent<unknown>) => this.receive(event.data));
    post({ type: 'ready' });
  }

  private receive(message: unknown): void {
    if (!isCorpusViewMessage(message)) {
      console.warn('Tailor corpus panel: ignored a malformed message', message);
      return;
    }
    this.handle(message);
  }

  private handle(message: CorpusViewMessage): void {
    switch (message.type) {
      case 'overview':
        return this.showOverview(message.overview);
      case 'unavailable':
        return this.showUnavailable(message.folderName, message.folderUri, message.message);
      case 'rows':
        return this.lists.get(message.group)?.showRows(message.requestId, message.filter, message.offset, message.total, message.rows);
      case 'counts': {
        if (message.requestId !== this.countsRequestId) return;
        let matches = 0;
        let entries = 0;
        for (const [id, list] of this.lists) {
          list.setMatches(message.counts[id] ?? 0);
          if (id === 'secrets') continue;
          matches += message.counts[id] ?? 0;
          entries += list.info.entries;
        }
        if (this.matchSummary) this.matchSummary.textContent = `${formatCount(matches)} of ${countOf(entries, 'path')} match`;
        return;
      }
      case 'notice':
        return this.showNotice(message.level, message.message);
      case 'busy':
        this.busy = message.busy;
        if (this.mineButton) this.mineButton.disabled = message.busy;
        if (this.status) this.status.textContent = message.message;
        return;
    }
  }

  private remember(): void {
    saveState(this.state);
  }

  // ── The overview ───────────────────────────────────────────────────────────────────────────────────────────

  private showOverview(o: CorpusOverview): void {
    this.state.folderUri = o.folderUri;
    this.state.folderName = o.folderName;
    this.state.open ??= o.groups.filter((g) => g.id === 'included' || (g.id === 'secrets' && g.entries > 0)).map((g) => g.id);
    this.remember();
    document.title = `Tailor: Corpus of ${o.folderName}`;

    this.lists.clear();
    clear(this.main);
    this.main.removeAttribute('aria-busy');
    append(
      this.main,
      this.header(o),
      this.headline(o),
      o.summary.tooSmall ? h('div', { id: 'too-small', class: 'callout warning', role: 'alert' }, o.summary.tooSmall) : null,
      h('p', { id: 'secret-policy', class: 'policy' }, h('strong', {}, 'Secrets. '), o.secretPolicy),
      this.languages(o),
      this.frameworks(o),
      this.files(o),
    );
    this.refreshLists();
  }

  private header(o: CorpusOverview): HTMLElement {
    const openText = button('open-text', 'Open as Text', true);
    openText.addEventListener('click', () => post({ type: 'openText' }));
    this.mineButton = button('mine-again', 'Mine Again', true);
    this.mineButton.disabled = this.busy || !o.inWorkspace;
    this.mineButton.addEventListener('click', () => post({ type: 'mineAgain' }));
    if (!o.inWorkspace) this.mineButton.title = `${o.folderName} is not open in this window`;
    const minedAt = new Date(o.minedAt);
    this.status = h('p', { id: 'status', class: 'status', role: 'status' });
    this.notice = h('p', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    return h(
      'header',
      { class: 'head' },
      h('div', { class: 'title-row' }, h('h1', { id: 'corpus-title' }, `Corpus of ${o.folderName}`), h('div', { class: 'actions' }, openText, this.mineButton)),
      h('p', { id: 'folder-path', class: 'folder-path' }, o.root),
      h(
        'p',
        { id: 'mined', class: 'meta' },
        'Mined ',
        h('time', { datetime: minedAt.toISOString() }, minedAt.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' })),
        ` in ${formatDuration(o.elapsedMs)} · ${countOf(o.filesSeen, 'file')} seen · fingerprint `,
        h('code', { title: o.fingerprint }, o.fingerprint.slice(0, 12)),
      ),
      this.status,
      this.notice,
    );
  }

  private headline(o: CorpusOverview): HTMLElement {
    const s = o.summary;
    const stat = (id: string, value: string, label: string, detail?: string) =>
      h('div', { class: 'stat', id: `stat-${id}` }, h('span', { class: 'stat-value' }, value), h('span', { class: 'stat-label' }, label), detail ? h('span', { class: 'stat-detail' }, detail) : null);
    return h(
      'section',
      { class: 'stats', 'aria-label': 'Headline numbers' },
      stat('in', formatCount(s.filesIncluded), s.filesIncluded === 1 ? 'file in' : 'files in'),
      stat('out', formatCount(s.filesExcluded), s.filesExcluded === 1 ? 'file out' : 'files out'),
      stat('size', formatBytes(s.bytesIncluded), 'to train on'),
      stat('secrets', formatCount(s.secretsSkipped), s.secretsSkipped === 1 ? 'secret file skipped' : 'secret files skipped'),
      stat('train', formatCount(s.train.files), s.train.files === 1 ? 'training file' : 'training files', formatBytes(s.train.bytes)),
      stat('validation', formatCount(s.validation.files), s.validation.files === 1 ? 'validation file' : 'validation files', formatBytes(s.validation.bytes)),
    );
  }

  private languages(o: CorpusOverview): HTMLElement {
    const section = h('section', { id: 'languages', 'aria-labelledby': 'languages-title' }, h('h2', { id: 'languages-title' }, 'Languages'));
    if (o.languages.length === 0) {
      append(section, h('p', { class: 'empty' }, 'No code files are in the corpus.'));
      return section;
    }
    const body = h('tbody');
    for (const l of o.languages) {
      const fill = h('span', { class: 'bar-fill' });
      fill.style.width = formatShare(l.share);
      append(
        body,
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, l.language),
          h('td', { class: 'num' }, formatCount(l.files)),
          h('td', { class: 'num' }, formatCount(l.lines)),
          h('td', { class: 'num' }, formatBytes(l.bytes)),
          h('td', {}, h('div', { class: 'share' }, h('span', { class: 'bar', 'aria-hidden': 'true' }, fill), h('span', { class: 'num' }, formatShare(l.share)))),
        ),
      );
    }
    append(section, h('table', { class: 'data' }, headRow(['Language', 'Files', 'Lines', 'Size', 'Share'], [1, 2, 3]), body));
    return section;
  }

  private frameworks(o: CorpusOverview): HTMLElement {
    const section = h('section', { id: 'frameworks', 'aria-labelledby': 'frameworks-title' }, h('h2', { id: 'frameworks-title' }, 'Frameworks'));
    if (o.frameworks.length === 0) {
      append(section, h('p', { class: 'empty' }, 'None found in package.json, pyproject.toml, go.mod, Cargo.toml, pom.xml or other manifests.'));
      return section;
    }
    const body = h('tbody');
    for (const f of o.frameworks) append(body, h('tr', {}, h('th', { scope: 'row' }, f.name), h('td', { class: 'path' }, f.folder || '.'), h('td', { class: 'path' }, f.manifest)));
    append(section, h('table', { class: 'data' }, headRow(['Framework', 'Folder', 'Manifest']), body));
    return section;
  }

  // ── The lists ──────────────────────────────────────────────────────────────────────────────────────────────

  private files(o: CorpusOverview): HTMLElement {
    const field = h('vscode-textfield', { id: 'filter', type: 'search', placeholder: 'e.g. src/api or .env', maxlength: MAX_FILTER_LENGTH });
    field.value = this.state.filter;
    field.label = 'Filter paths';
    field.addEventListener('input', () => this.filterChanged((field as VscodeTextfield).value));
    const expand = button('expand-all', 'Expand All', true);
    const collapse = button('collapse-all', 'Collapse All', true);
    expand.addEventListener('click', () => this.setAllOpen(true));
    collapse.addEventListener('click', () => this.setAllOpen(false));
    this.matchSummary = h('span', { id: 'match-summary', class: 'match-summary', 'aria-live': 'polite' });

    const section = h(
      'section',
      { id: 'files', 'aria-labelledby': 'files-title' },
      h('h2', { id: 'files-title' }, 'Files'),
      h('div', { class: 'toolbar', role: 'search' }, h('vscode-label', { for: 'filter' }, 'Filter paths'), field, this.matchSummary, h('span', { class: 'spacer' }), expand, collapse),
    );
    const open = new Set(this.state.open ?? []);
    const hooks: ListHooks = {
      query: (group, offset) => this.query(group, offset),
      open: (path) => post({ type: 'open', path }),
      toggled: (group, isOpen) => {
        const set = new Set(this.state.open ?? []);
        if (isOpen) set.add(group);
        else set.delete(group);
        this.state.open = [...set];
        this.remember();
      },
    };
    const excluded = o.groups.filter((g) => g.id !== 'included' && g.id !== 'secrets');
    for (const info of o.groups) {
      const list = new GroupList(info, hooks, open.has(info.id), this.state.offsets[info.id] ?? 0);
      this.lists.set(info.id, list);
      if (info.id === 'secrets' || info.id === 'included') append(section, list.element);
    }
    const outFiles = excluded.reduce((n, g) => n + g.files, 0);
    append(section, h('h3', { id: 'excluded-title', class: 'group-title' }, `Left out, by reason (${countOf(outFiles, 'file')})`));
    if (excluded.length === 0) append(section, h('p', { class: 'empty' }, 'Nothing was left out.'));
    for (const info of excluded) append(section, this.lists.get(info.id)!.element);
    return section;
  }

  private query(group: CorpusGroupId, offset: number): number {
    const requestId = ++this.lastRequestId;
    this.state.offsets[group] = offset;
    this.remember();
    post({ type: 'query', requestId, group, offset, limit: PAGE_SIZE, filter: this.state.filter });
    return requestId;
  }

  /** After a new overview or filter: counts when filtering, and the current page of every open list. */
  private refreshLists(): void {
    if (this.state.filter.trim()) {
      this.countsRequestId = ++this.lastRequestId;
      post({ type: 'count', requestId: this.countsRequestId, filter: this.state.filter });
    } else {
      this.countsRequestId = 0;
      for (const list of this.lists.values()) list.setMatches(undefined);
      if (this.matchSummary) this.matchSummary.textContent = '';
    }
    for (const list of this.lists.values()) list.reload();
  }

  private filterChanged(value: string): void {
    if (this.filterTimer !== undefined) clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => {
      this.filterTimer = undefined;
      const filter = value.slice(0, MAX_FILTER_LENGTH);
      if (filter === this.state.filter) return;
      this.state.filter = filter;
      this.state.offsets = {};
      this.remember();
      for (const list of this.lists.values()) list.offset = 0;
      this.refreshLists();
    }, FILTER_DELAY_MS);
  }

  private setAllOpen(open: boolean): void {
    for (const list of this.lists.values()) list.setOpen(open);
    this.state.open = open ? [...this.lists.keys()] : [];
    this.remember();
  }

  // ── Messages ───────────────────────────────────────────────────────────────────────────────────────────────

  private showNotice(level: 'info' | 'warning' | 'error', message: string): void {
    if (!this.notice) return;
    this.notice.textContent = message;
    this.notice.className = `notice ${level}`;
    this.notice.hidden = false;
    if (this.noticeTimer !== undefined) clearTimeout(this.noticeTimer);
    this.noticeTimer = setTimeout(() => {
      if (this.notice) this.notice.hidden = true;
    }, 12_000);
  }

  private showUnavailable(folderName: string, folderUri: string, message: string): void {
    this.lists.clear();
    this.state.folderUri = folderUri || this.state.folderUri;
    this.state.folderName = folderName;
    this.remember();
    clear(this.main);
    this.main.removeAttribute('aria-busy');
    this.mineButton = button('mine-again', 'Mine Again');
    this.mineButton.disabled = this.busy;
    this.mineButton.addEventListener('click', () => post({ type: 'mineAgain' }));
    this.status = h('p', { id: 'status', class: 'status', role: 'status' });
    this.notice = h('p', { id: 'notice', class: 'notice', role: 'status', 'aria-live': 'polite', hidden: true });
    append(
      this.main,
      h(
        'header',
        { class: 'head' },
        h('h1', { id: 'corpus-title' }, `Corpus of ${folderName}`),
        h('div', { id: 'unavailable', class: 'callout warning', role: 'alert' }, message),
        h('div', { class: 'actions' }, this.mineButton),
        this.status,
        this.notice,
      ),
    );
  }
}

function headRow(labels: string[], numeric: number[] = []): HTMLTableSectionElement {
  return h('thead', {}, h('tr', {}, ...labels.map((l, i) => h('th', { scope: 'col', class: numeric.includes(i) ? 'num' : undefined }, l))));
}

interface ListHooks {
  /** Asks the host for a page; returns the request id its answer will carry. */
  query(group: CorpusGroupId, offset: number): number;
  open(path: string): void;
  toggled(group: CorpusGroupId, open: boolean): void;
}

const COLUMNS: Record<CorpusRow['type'], { labels: string[]; numeric: number[] }> = {
  included: { labels: ['Path', 'Language', 'Lines', 'Size', 'Split'], numeric: [2, 3] },
  secret: { labels: ['File', 'Line', 'Kind'], numeric: [1] },
  excluded: { labels: ['Path', 'Why'], numeric: [] },
};

/** One group as a collapsible list with a pager; it loads a page only while it is open. */
class GroupList {
  readonly element: VscodeCollapsible;
  offset: number;
  private latest = 0;
  private filter = '';
  private readonly tbody = h('tbody');
  private readonly table: HTMLTableElement;
  private readonly range = h('span', { class: 'range', 'aria-live': 'polite' });
  private readonly empty = h('p', { class: 'empty', hidden: true });
  private readonly pagerBar: HTMLElement;
  private readonly first = button('', 'First', true);
  private readonly previous = button('', 'Previous', true);
  private readonly next = button('', 'Next', true);
  private readonly last = button('', 'Last', true);
  private lastOffset = 0;
  private previousOffset = 0;
  private nextOffset = 0;

  constructor(
    readonly info: CorpusGroupInfo,
    private readonly hooks: ListHooks,
    open: boolean,
    offset: number,
  ) {
    this.offset = offset;
    this.element = h('vscode-collapsible', { 'data-group': info.id, heading: info.title, description: groupDescription(info), open });
    this.element.addEventListener('vsc-collapsible-toggle', () => {
      this.hooks.toggled(info.id, this.element.open);
      if (this.element.open) this.reload();
    });
    const type: CorpusRow['type'] = info.id === 'included' ? 'included' : info.id === 'secrets' ? 'secret' : 'excluded';
    const columns = COLUMNS[type];
    this.table = h('table', { class: 'data rows', 'aria-label': info.title, hidden: true }, headRow(columns.labels, columns.numeric), this.tbody);
    this.tbody.addEventListener('click', (event) => {
      const target = (event.target as Element).closest('button.path-link');
      const path = target?.getAttribute('data-path');
      if (path) this.hooks.open(path);
    });
    this.first.setAttribute('aria-label', `First page of ${info.title}`);
    this.previous.setAttribute('aria-label', `Previous page of ${info.title}`);
    this.next.setAttribute('aria-label', `Next page of ${info.title}`);
    this.last.setAttribute('aria-label', `Last page of ${info.title}`);
    this.first.addEventListener('click', () => this.go(0));
    this.previous.addEventListener('click', () => this.go(this.previousOffset));
    this.next.addEventListener('click', () => this.go(this.nextOffset));
    this.last.addEventListener('click', () => this.go(this.lastOffset));
    this.pagerBar = h('div', { class: 'pager', hidden: true }, this.first, this.previous, this.next, this.last);
    append(
      this.element,
      SECRET_GROUPS.has(info.id) ? h('p', { class: 'secret-note' }, 'These files hold secrets: Tailor does not open them from the report, and the report never shows a secret’s value.') : null,
      this.table,
      this.empty,
      h('div', { class: 'list-foot' }, this.range, this.pagerBar),
    );
  }

  setOpen(open: boolean): void {
    if (this.element.open === open) return;
    this.element.open = open;
    if (open) this.reload();
  }

  /** Filtered count from the host, or undefined when there is no filter. */
  setMatches(matches: number | undefined): void {
    // As an attribute, so that it can be read from outside (tests) as well as seen.
    this.element.setAttribute('description', groupDescription(this.info, matches));
    this.element.classList.toggle('no-match', matches === 0);
  }

  /** Asks for the current page again if the list is open. */
  reload(): void {
    if (this.element.open) this.latest = this.hooks.query(this.info.id, this.offset);
  }

  private go(offset: number): void {
    this.offset = offset;
    this.latest = this.hooks.query(this.info.id, offset);
  }

  showRows(requestId: number, filter: string, offset: number, total: number, rows: CorpusRow[]): void {
    if (requestId !== this.latest) return;
    this.filter = filter;
    this.offset = offset;
    clear(this.tbody);
    for (const row of rows) this.tbody.appendChild(renderRow(row));
    const p = pager(offset, rows.length, total);
    this.range.textContent = p.label ? `${this.info.id === 'secrets' ? 'Findings' : 'Rows'} ${p.label}` : '';
    this.table.hidden = rows.length === 0;
    this.empty.hidden = rows.length > 0;
    this.empty.textContent = this.filter.trim() ? 'No paths here match the filter.' : 'Nothing here.';
    this.pagerBar.hidden = !p.paged;
    this.first.disabled = this.previous.disabled = !p.hasPrevious;
    this.next.disabled = this.last.disabled = !p.hasNext;
    this.previousOffset = p.previousOffset;
    this.nextOffset = p.nextOffset;
    this.lastOffset = p.lastOffset;
  }
}

function pathCell(path: string, blocked: string | undefined, folderFiles?: number): HTMLTableCellElement {
  const cell = h('td', { class: 'path' });
  const folder = path.endsWith('/');
  if (blocked) {
    append(cell, h('span', { class: 'path-text' }, path), ' ', h('span', { class: 'blocked', title: `Not opened: ${blocked}.` }, 'not opened'));
  } else {
    append(cell, h('button', { type: 'button', class: 'path-link', 'data-path': path, title: folder ? `Reveal ${path} in the Explorer` : `Open ${path}` }, path));
  }
  if (folderFiles !== undefined) append(cell, ' ', h('span', { class: 'folder-count' }, `(${countOf(folderFiles, 'file')})`));
  return cell;
}

function renderRow(row: CorpusRow): HTMLTableRowElement {
  switch (row.type) {
    case 'included':
      return h(
        'tr',
        {},
        pathCell(row.path, undefined),
        h('td', {}, row.language),
        h('td', { class: 'num' }, formatCount(row.lines)),
        h('td', { class: 'num' }, formatBytes(row.bytes)),
        h('td', { class: `split ${row.split}` }, row.split),
      );
    case 'secret':
      return h(
        'tr',
        {},
        pathCell(row.path, 'it holds a secret, and Tailor does not open it from the report'),
        h('td', { class: 'num' }, row.line ? formatCount(row.line) : 'whole file'),
        h('td', {}, row.kind),
      );
    case 'excluded':
      return h('tr', {}, pathCell(row.path, row.blocked, row.files), h('td', { class: 'detail' }, row.detail));
  }
}
