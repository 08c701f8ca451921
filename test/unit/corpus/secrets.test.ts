import assert from 'node:assert/strict';
import fs from 'node:fs';
import { describe, it, mock } from 'node:test';
import { formatReport, mineWorkspace } from '../../../src/corpus';
import { findSecrets } from '../../../src/corpus/secrets';
import { codeFile, treeMaker } from '../fixtureTree';

const newTree = treeMaker();

// Fake secrets, assembled at run time so this file itself does not look like it holds any.
const r = (n: number, alphabet = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789') =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 7 + n * 3 + (i * i) % 11) % alphabet.length]).join('');
const FAKE = {
  pem: ['-----BEGIN ' + 'RSA PRIVATE KEY-----', 'MIIEowIBAAKCAQEA' + r(48, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), r(64, 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/'), '-----END RSA PRIVATE KEY-----'].join('\n'),
  aws: 'AKIA' + r(16, 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'),
  github: 'ghp_' + r(36),
  gitlab: 'glpat-' + r(20),
  slack: 'xoxb-' + '1234567890-' + r(24),
  stripe: 'sk_' + 'live_' + r(24),
  google: 'AIza' + r(35),
  openai: 'sk-proj-' + r(48),
  anthropic: 'sk-ant-api03-' + r(64),
  npm: 'npm_' + r(36),
  hf: 'hf_' + r(34, 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'),
  jwt: 'eyJ' + r(20) + '.eyJ' + r(30) + '.' + r(40),
  conn: 'postgres://app:' + 'Zq8' + r(10) + '@db.internal:5432/shop',
  assigned: r(32),
};

describe('secrets', () => {
  it('never opens files that are secrets by kind, and reports them', async () => {
    const secretFiles = ['.env', '.env.production', 'config/prod.env', 'id_rsa', 'id_ed25519.pub', 'certs/server.pem', 'certs/tls.key', 'store.p12', '.npmrc', '.pypirc', '.netrc', '.git-credentials', 'credentials.json', 'gcp/service-account-prod.json', 'infra/terraform.tfvars', 'infra/terraform.tfstate', 'kubeconfig', 'config/secrets.yml'];
    const tree: Record<string, string> = { 'src/app.ts': codeFile(1), '.aws/credentials': '[default]\n', '.ssh/config': 'Host x\n' };
    for (const f of secretFiles) tree[f] = 'TOKEN=' + FAKE.github + '\n';
    const root = newTree(tree);
    const opened: string[] = [];
    const realOpen = fs.openSync;
    const spy = mock.method(fs, 'openSync', (p: fs.PathLike, ...rest: unknown[]) => {
      opened.push(String(p));
      return (realOpen as (...a: unknown[]) => number)(p, ...rest);
    });
    const readFile = mock.method(fs, 'readFileSync');
    let c: Awaited<ReturnType<typeof mineWorkspace>>;
    try {
      c = await mineWorkspace(root);
    } finally {
      spy.mock.restore();
      readFile.mock.restore();
    }
    for (const f of secretFiles) {
      const e = c.excluded.find((x) => x.path === f);
      assert.equal(e?.kind, 'secret-file', `${f} is a secret by kind`);
      assert.ok(!opened.some((p) => p.endsWith(f)), `${f} was opened`);
    }
    assert.ok(!readFile.mock.calls.some((call) => secretFiles.some((f) => String(call.arguments[0]).endsWith(f))));
    assert.equal(c.excluded.find((x) => x.path === '.aws/')?.kind, 'secret-file');
    assert.equal(c.excluded.find((x) => x.path === '.ssh/')?.kind, 'secret-file');
    assert.deepEqual(c.files.map((f) => f.path), ['src/app.ts']);
  });

  it('finds each kind of secret in content, leaves the file out, and never prints the value', async () => {
    const tree: Record<string, string> = {};
    const planted: Record<string, string> = {
      pem: `const key = \`${FAKE.pem}\`;\n`,
      aws: `const id = "${FAKE.aws}";\n`,
      github: `fetch(url, { headers: { Authorization: "token ${FAKE.github}" } });\n`,
      gitlab: `GITLAB = "${FAKE.gitlab}"\n`,
      slack: `slack_client("${FAKE.slack}")\n`,
      stripe: `stripe.init('${FAKE.stripe}');\n`,
      google: `const maps = "${FAKE.google}";\n`,
      openai: `client = OpenAI("${FAKE.openai}")\n`,
      anthropic: `key = "${FAKE.anthropic}"\n`,
      npm: `//registry.npmjs.org/:_authToken=${FAKE.npm}\n`,
      hf: `login(token="${FAKE.hf}")\n`,
      jwt: `const session = "${FAKE.jwt}";\n`,
      conn: `DATABASE_URL = "${FAKE.conn}"\n`,
      assigned: `export const apiKey = "${FAKE.assigned}";\n`,
    };
    // Configuration files, where values go unquoted.
    tree['config/application.properties'] = `server.port=8080\nspring.datasource.password=Xk29dkf93kd!\n`;
    tree['config/settings.yml'] = `debug: false\nstripe_api_key: ${FAKE.assigned}\n`;
    for (const [name, line] of Object.entries(planted)) tree[`src/${name}.ts`] = codeFile(name.length) + line + codeFile(name.length + 100, 10);
    tree['src/clean.ts'] = codeFile(999);
    const root = newTree(tree);
    const c = await mineWorkspace(root);
    for (const name of [...Object.keys(planted).map((n) => `src/${n}.ts`), 'config/application.properties', 'config/settings.yml']) {
      const e = c.excluded.find((x) => x.path === name);
      assert.equal(e?.kind, 'secret-content', `${name} should be found`);
      assert.match(e!.detail, /on line \d+/);
    }
    assert.deepEqual(c.files.map((f) => f.path), ['src/clean.ts']);
    const report = formatReport(c, 'fixture') + JSON.stringify(c);
    for (const [name, value] of Object.entries(FAKE)) {
      const probe = name === 'pem' ? value.split('\n')[1]!.slice(0, 30) : value;
      assert.ok(!report.includes(probe), `the report must not contain the ${name} value`);
    }
  });

  it('does not take placeholders, environment lookups, examples or names of things for secrets', () => {
    const clean = [
      'const password = process.env.DB_PASSWORD;',
      'password = "${PASSWORD}"',
      'api_key = "<your-api-key>"',
      'token = "Bearer"',
      'const url = "https://user:pass@example.com/x";',
      'const u = new URL("http://abc:xyz@example.com");',
      "export const FLOW_PASSWORD_REQUIRED_V2 = 'FlowPasswordRequiredResultV2';",
      "SHA256_TOKEN_TO_REFRESH: 'token_sha256_to_refresh',",
      'AWS_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"',
      ' * (string should contain -----BEGIN PRIVATE KEY----- ... -----END PRIVATE KEY----- )',
      'const secretName = "payments/stripe/api-key";',
      'tokenType = "refresh_token"',
      'password: ${DB_PASSWORD}',
      'spring.datasource.password=changeme',
      '  token_endpoint: https://auth.example.com/oauth/token',
      'const password = await getPassword(user);',
      'secret_key_base: <%= ENV["SECRET_KEY_BASE"] %>',
    ];
    for (const line of clean) assert.deepEqual(findSecrets(line), [], line);
  });

  it('gives one finding per line, the named kind over the generic one', () => {
    assert.deepEqual(findSecrets(`const secretKey = "${FAKE.stripe}";\n`), [{ kind: 'Stripe key', line: 1 }]);
  });

  it('names the line of each finding', () => {
    const text = `a = 1\nb = 2\nconst k = "${FAKE.aws}"\n`;
    assert.deepEqual(findSecrets(text), [{ kind: 'AWS access key id', line: 3 }]);
  });
});
