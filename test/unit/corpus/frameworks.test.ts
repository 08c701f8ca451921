import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { mineWorkspace } from '../../../src/corpus';
import { frameworksInManifest } from '../../../src/corpus/frameworks';
import { treeMaker } from '../fixtureTree';

const newTree = treeMaker();

describe('frameworks', () => {
  it('reads them from each ecosystem’s manifest', () => {
    assert.deepEqual(frameworksInManifest('package.json', JSON.stringify({ dependencies: { react: '18', express: '4' }, devDependencies: { vitest: '1' } })), ['Express', 'React', 'Vitest']);
    assert.deepEqual(frameworksInManifest('requirements.txt', 'Django>=4.2\nnumpy==1.26  # math\n-r base.txt\n'), ['Django', 'NumPy']);
    assert.deepEqual(frameworksInManifest('pyproject.toml', '[project]\nname = "x"\ndependencies = ["fastapi>=0.100", "pydantic"]\n[tool.poetry.dependencies]\ntorch = "^2"\n'), ['FastAPI', 'PyTorch', 'Pydantic']);
    assert.deepEqual(frameworksInManifest('go.mod', 'module x\n\nrequire (\n\tgithub.com/gin-gonic/gin v1.9.1\n\tgithub.com/spf13/cobra v1.8.0\n)\n'), ['Cobra', 'Gin']);
    assert.deepEqual(frameworksInManifest('Cargo.toml', '[package]\nname = "x"\n[dependencies]\ntokio = { version = "1" }\naxum = "0.7"\n'), ['Tokio', 'axum']);
    assert.deepEqual(frameworksInManifest('pom.xml', '<project><dependencies><dependency><artifactId>spring-boot-starter-web</artifactId></dependency></dependencies></project>'), ['Spring Boot']);
    assert.deepEqual(frameworksInManifest('Gemfile', "source 'https://rubygems.org'\ngem 'rails', '~> 7'\n"), ['Rails']);
    assert.deepEqual(frameworksInManifest('package.json', '{ not json'), [], 'a broken manifest names nothing');
  });

  it('lists frameworks per folder of a monorepo', async () => {
    const root = newTree({
      'web/package.json': JSON.stringify({ dependencies: { vue: '3' } }),
      'api/requirements.txt': 'flask\n',
      'api/app.py': 'from flask import Flask\napp = Flask(__name__)\n',
    });
    const c = await mineWorkspace(root);
    assert.deepEqual(
      c.frameworks.map((f) => `${f.name}@${f.folder}:${f.manifest}`).sort(),
      ['Flask@api:api/requirements.txt', 'Vue@web:web/package.json'],
    );
  });
});
