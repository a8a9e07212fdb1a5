import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseServerInvocation } from '../../../../src/infrastructure/cli/server-options';
import { defaultBrokerConfig, type BrokerConfig } from '../../../../src/infrastructure/config/broker-config';
import { ClusterSecretError, readClusterSecret } from '../../../../src/infrastructure/config/cluster-secret';
import { parseConfigText } from '../../../../src/infrastructure/config/config-file';
import { resolveBrokerConfig } from '../../../../src/infrastructure/config/load-config';

const GOOD = 'Zm9vYmFyYmF6cXV4MTIzNDU2Nzg5MDEyMzQ1Njc4OTA='; // 44 bytes, as openssl rand -base64 32 prints
const SHORT = 'hunter2-is-not-enough';

/** Runs the executable's configuration path (flags, environment, file checks) without starting anything. */
async function invoke(env: NodeJS.ProcessEnv, args: readonly string[] = []): Promise<{ code: number; output: string } | BrokerConfig> {
  const r = await parseServerInvocation(['/usr/bin/node', 'liftbridge.js', ...args], env, 'test');
  return r.kind === 'run' ? r.config : { code: r.code, output: r.output };
}

const clustering = (c: Partial<BrokerConfig['clustering']>): BrokerConfig['clustering'] => ({ ...defaultBrokerConfig().clustering, ...c });

describe('the cluster secret fails closed (docs/configuration.md)', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'liftbridge-secret-'));
    await writeFile(join(dir, 'good'), `${GOOD}\n`);
    await writeFile(join(dir, 'short'), `${SHORT}\n`);
    await writeFile(join(dir, 'huge'), Buffer.alloc(10_000, 0x61));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('is optional: no secret means none', async () => {
    expect(await readClusterSecret(clustering({}))).toBeNull();
    const config = await invoke({});
    expect('clustering' in config && config.clustering.authSecret).toBeUndefined();
  });

  it('is read from the key, its environment variable or a file (trailing newline dropped)', async () => {
    expect((await readClusterSecret(clustering({ authSecret: GOOD })))!.toString()).toBe(GOOD);
    expect((await readClusterSecret(clustering({ authSecretFile: join(dir, 'good') })))!.toString()).toBe(GOOD);
    const fromEnv = await invoke({ LIFTBRIDGE_CLUSTERING_AUTH_SECRET: GOOD });
    expect('clustering' in fromEnv && fromEnv.clustering.authSecret).toBe(GOOD);
    const fromFile = await invoke({ LIFTBRIDGE_CLUSTERING_AUTH_SECRET_FILE: join(dir, 'good') });
    expect('clustering' in fromFile && fromFile.clustering.authSecretFile).toBe(join(dir, 'good'));
    const yaml = parseConfigText(`clustering:\n  auth.secret: ${GOOD}\n`, 'liftbridge.yaml');
    expect(yaml.ok && resolveBrokerConfig({ file: yaml.value.settings, env: {} }).ok).toBe(true);
  });

  it('refuses a secret shorter than 32 bytes at start, naming the key and never showing the value', async () => {
    const result = await invoke({ LIFTBRIDGE_CLUSTERING_AUTH_SECRET: SHORT });
    expect(result).toMatchObject({ code: 2 });
    const output = (result as { output: string }).output;
    expect(output).toContain('"clustering.auth.secret" is 21 bytes long');
    expect(output).toContain('LIFTBRIDGE_CLUSTERING_AUTH_SECRET');
    expect(output).not.toContain(SHORT);
    await expect(readClusterSecret(clustering({ authSecret: SHORT }))).rejects.toThrow(ClusterSecretError);
    await expect(readClusterSecret(clustering({ authSecret: SHORT }))).rejects.not.toThrow(SHORT);
  });

  it('refuses an unreadable, too large or too short secret file, naming the key', async () => {
    const missing = join(dir, 'missing');
    for (const [file, expected] of [
      [missing, `Cannot read the file of "clustering.auth.secret.file": ${JSON.stringify(missing)} (ENOENT)`],
      [join(dir, 'huge'), 'The file of "clustering.auth.secret.file" is larger than 4096 bytes'],
      [join(dir, 'short'), '"clustering.auth.secret.file" is 21 bytes long'],
    ] as const) {
      const result = await invoke({ LIFTBRIDGE_CLUSTERING_AUTH_SECRET_FILE: file });
      expect(result).toMatchObject({ code: 2 });
      expect((result as { output: string }).output).toContain(expected);
      expect((result as { output: string }).output).not.toContain(SHORT);
      const error = await readClusterSecret(clustering({ authSecretFile: file })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ClusterSecretError);
      expect((error as ClusterSecretError).key).toBe('clustering.auth.secret.file');
    }
  });

  it('refuses both ways at once, and never shows a secret of the wrong type', async () => {
    const both = await invoke({ LIFTBRIDGE_CLUSTERING_AUTH_SECRET: GOOD, LIFTBRIDGE_CLUSTERING_AUTH_SECRET_FILE: join(dir, 'good') });
    expect((both as { output: string }).output).toContain('"clustering.auth.secret" and "clustering.auth.secret.file" cannot both be set');
    expect((both as { output: string }).output).not.toContain(GOOD);
    const yaml = parseConfigText(`clustering:\n  auth.secret: [${GOOD}, other]\n`, 'liftbridge.yaml');
    const resolved = yaml.ok ? resolveBrokerConfig({ file: yaml.value.settings, env: {} }) : yaml;
    expect(resolved.ok).toBe(false);
    const text = JSON.stringify(resolved);
    expect(text).toContain('Invalid value for \\"clustering.auth.secret\\": (value not shown)');
    expect(text).not.toContain(GOOD);
  });
});
