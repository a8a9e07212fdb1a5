import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { AuthorizationPolicyError, CasbinClientAuthorizer } from '../../../../../src/adapters/outbound/casbin/casbin-client-authorizer';
import { capturingLogger } from '../../../../support/capturing-logger';

/** Liftbridge 1.9's model and example policy, verbatim. */
const AUTHZ = path.join(__dirname, '../../../../support/authz');

let dir: string;
let policyFile: string;
let modelFile: string;

const files = () => ({ modelFile, policyFile, modelKey: 'tls.client.authz.model', policyKey: 'tls.client.authz.policy' });
const load = (logger = capturingLogger().logger) => CasbinClientAuthorizer.load(files(), logger);
const loadError = (): Promise<AuthorizationPolicyError> => load().then(
  () => {
    throw new Error('loaded');
  },
  (e: AuthorizationPolicyError) => e,
);

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'lbts-casbin-'));
  modelFile = path.join(dir, 'model.conf');
  policyFile = path.join(dir, 'policy.csv');
  fs.copyFileSync(path.join(AUTHZ, 'model.conf'), modelFile);
  fs.copyFileSync(path.join(AUTHZ, 'policy.csv'), policyFile);
});

afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('CasbinClientAuthorizer with Liftbridge\'s model and example policy', () => {
  it('allows exactly the rows of the policy: equality of subject, object and action', async () => {
    const authorizer = await load();
    expect(authorizer.isAllowed('client1', 'foo', 'Publish')).toBe(true);
    expect(authorizer.isAllowed('client1', '*', 'FetchMetadata')).toBe(true);
    expect(authorizer.isAllowed('client1', '__cursors', 'Publish')).toBe(true);
    expect(authorizer.isAllowed('client1', 'bar', 'CreateStream')).toBe(true);
    expect(authorizer.isAllowed('client1', 'bar', 'Publish')).toBe(false);
    expect(authorizer.isAllowed('client2', 'foo', 'Publish')).toBe(false);
    // `*` is a literal resource name, not a wildcard.
    expect(authorizer.isAllowed('client1', 'foo', 'FetchMetadata')).toBe(false);
    expect(authorizer.isAllowed('client1', '*', 'Publish')).toBe(false);
    expect(authorizer.isAllowed('Client1', 'foo', 'Publish')).toBe(false);
  });

  it('answers from its cache after the first decision (the same answers)', async () => {
    const authorizer = await load();
    const first = [authorizer.isAllowed('client1', 'foo', 'Publish'), authorizer.isAllowed('client2', 'foo', 'Publish')];
    for (let i = 0; i < 100; i++) expect([authorizer.isAllowed('client1', 'foo', 'Publish'), authorizer.isAllowed('client2', 'foo', 'Publish')]).toEqual(first);
  });

  it('does not mix up subjects, objects and actions that share characters', async () => {
    fs.writeFileSync(policyFile, 'p, a, b c, d\n');
    const authorizer = await load();
    expect(authorizer.isAllowed('a', 'b c', 'd')).toBe(true);
    expect(authorizer.isAllowed('a b', 'c', 'd')).toBe(false);
  });
});

describe('reload', () => {
  it('takes a new policy, bumps the version and forgets the cached decisions', async () => {
    const { logger, lines } = capturingLogger();
    const authorizer = await load(logger);
    expect(authorizer.isAllowed('client2', 'foo', 'Publish')).toBe(false);
    const version = authorizer.policyVersion;
    fs.appendFileSync(policyFile, '\np, client2, foo, Publish\n');
    expect(await authorizer.reload()).toBe(true);
    expect(authorizer.policyVersion).toBe(version + 1);
    expect(authorizer.isAllowed('client2', 'foo', 'Publish')).toBe(true);
    expect(lines.some((l) => l.msg === 'authorization policy reloaded')).toBe(true);
  });

  it.each([
    ['an unreadable policy', () => fs.rmSync(policyFile), 'tls.client.authz.policy', 'ENOENT'],
    ['an unterminated quote', () => fs.writeFileSync(policyFile, 'p, client2, "foo, Publish\n'), 'tls.client.authz.policy', 'Quote Not Closed'],
    ['a rule with a field missing', () => fs.writeFileSync(policyFile, 'p, client2, foo\n'), 'tls.client.authz.policy', 'has 2 fields'],
    ['a rule of a type the model does not define', () => fs.writeFileSync(policyFile, 'p2, client2, foo, Publish\n'), 'tls.client.authz.policy', 'rule type "p2" is not defined'],
    ['a broken model', () => fs.writeFileSync(modelFile, '[request_definition]\nr = sub, obj, act\n'), 'tls.client.authz.model', 'missing required sections'],
  ])('keeps the policy in force on %s, and logs why naming the key', async (_what, spoil, key, reason) => {
    const { logger, lines } = capturingLogger();
    const authorizer = await load(logger);
    const version = authorizer.policyVersion;
    spoil();
    expect(await authorizer.reload()).toBe(false);
    expect(authorizer.policyVersion).toBe(version);
    expect(authorizer.isAllowed('client1', 'foo', 'Publish')).toBe(true);
    expect(lines.find((l) => l.msg === 'authorization policy not reloaded: the policy in force is kept')?.obj).toMatchObject({
      key,
      reason: expect.stringContaining(reason),
    });
  });
});

describe('load refuses what it cannot apply, naming the key', () => {
  it('an unreadable model', async () => {
    fs.rmSync(modelFile);
    expect(await loadError()).toMatchObject({ key: 'tls.client.authz.model', message: expect.stringContaining('Cannot read the file of "tls.client.authz.model"') });
  });

  it('a model whose requests do not take (subject, object, action)', async () => {
    fs.writeFileSync(modelFile, fs.readFileSync(modelFile, 'utf8').replace('r = sub, obj, act', 'r = sub, obj').replace('r.act == p.act', 'true'));
    expect(await loadError()).toMatchObject({ key: 'tls.client.authz.model', message: expect.stringContaining('cannot be evaluated') });
  });

  it('an empty policy loads, and denies everything', async () => {
    fs.writeFileSync(policyFile, '# nobody\n\n');
    const authorizer = await load();
    expect(authorizer.isAllowed('client1', 'foo', 'Publish')).toBe(false);
  });

  it('an RBAC model and its role rules (any Casbin model works)', async () => {
    fs.writeFileSync(
      modelFile,
      '[request_definition]\nr = sub, obj, act\n[policy_definition]\np = sub, obj, act\n[role_definition]\ng = _, _\n[policy_effect]\ne = some(where (p.eft == allow))\n[matchers]\nm = g(r.sub, p.sub) && r.obj == p.obj && r.act == p.act\n',
    );
    fs.writeFileSync(policyFile, 'p, writers, foo, Publish\ng, client2, writers\n');
    const authorizer = await load();
    expect(authorizer.isAllowed('client2', 'foo', 'Publish')).toBe(true);
    expect(authorizer.isAllowed('client1', 'foo', 'Publish')).toBe(false);
  });
});
