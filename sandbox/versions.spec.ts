import { mkdtemp, cp, writeFile, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MODULES_DIR, cacheKey, helmCacheKey, readVersions } from './versions.js';

describe('readVersions', () => {
  it('reads the pinned versions from the go.mod files', () => {
    const versions = readVersions();
    expect(versions.kubernetes).toMatch(/^v1\.(3[5-9]|[4-9]\d)\.\d+$/);
    expect(versions.etcd).toMatch(/^v3\.\d+\.\d+$/);
    expect(versions.kwok).toMatch(/^v0\.\d+\.\d+$/);
    expect(versions.helm).toMatch(/^v[34]\.\d+\.\d+$/);
    expect(versions.helmModule).toBe(`helm.sh/helm/${versions.helm.split('.')[0]}`);
  });
});

describe('cacheKey', () => {
  it('names the versions and changes with the recipe or the module files', async () => {
    const versions = readVersions();
    const key = cacheKey(versions, 'recipe-a');
    expect(key).toContain(`k8s-${versions.kubernetes}`);
    expect(key).toContain(`etcd-${versions.etcd}`);
    expect(key).toContain(`kwok-${versions.kwok}`);
    expect(cacheKey(versions, 'recipe-a')).toBe(key);
    expect(cacheKey(versions, 'recipe-b')).not.toBe(key);

    const copy = join(await mkdtemp(join(tmpdir(), 'sandbox-modules-')), 'modules');
    await cp(MODULES_DIR, copy, { recursive: true });
    expect(cacheKey(versions, 'recipe-a', copy)).toBe(key);
    const goSum = join(copy, 'kwok', 'go.sum');
    await writeFile(goSum, (await readFile(goSum, 'utf8')) + 'example.com/x v1.0.0 h1:AAAA=\n');
    expect(cacheKey(versions, 'recipe-a', copy)).not.toBe(key);
  });

  it('keeps helm in an entry of its own: a helm bump does not rebuild the cluster', async () => {
    const versions = readVersions();
    const key = cacheKey(versions, 'recipe-a');
    const helm = helmCacheKey(versions, 'recipe-a');
    expect(helm).toMatch(new RegExp(`^helm-${versions.helm.replaceAll('.', '\\.')}_[0-9a-f]{12}$`));

    const copy = join(await mkdtemp(join(tmpdir(), 'sandbox-modules-')), 'modules');
    await cp(MODULES_DIR, copy, { recursive: true });
    const goSum = join(copy, 'helm', 'go.sum');
    await writeFile(goSum, (await readFile(goSum, 'utf8')) + 'example.com/x v1.0.0 h1:AAAA=\n');
    expect(helmCacheKey(versions, 'recipe-a', copy)).not.toBe(helm);
    expect(cacheKey(versions, 'recipe-a', copy)).toBe(key);
  });
});
