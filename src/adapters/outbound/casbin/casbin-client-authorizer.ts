import { Enforcer, newEnforcer, newModelFromString, StringAdapter } from 'casbin';
import { readFile } from 'node:fs/promises';
import type { ClientAuthorizer } from '../../../application/ports/client-authorizer.port';
import type { Logger } from '../../../application/ports/logger.port';

/** The files of a Casbin authorization, and the configuration keys that named them (for messages). */
export interface CasbinFiles {
  readonly modelFile: string;
  readonly policyFile: string;
  readonly modelKey: string;
  readonly policyKey: string;
}

/** A model or policy that cannot be used; `key` is the configuration key of the file at fault. */
export class AuthorizationPolicyError extends Error {
  constructor(
    readonly key: string,
    message: string,
  ) {
    super(message);
    this.name = 'AuthorizationPolicyError';
  }
}

/** Models and policies are small; a huge file is a wrong path. */
const FILE_BYTES_MAX = 4 * 1024 * 1024;
/**
 * Distinct (subject, object, action) decisions kept per policy. Beyond it the cache starts again:
 * bounded memory whatever names clients send.
 */
const DECISIONS_MAX = 16_384;

/**
 * Authorization with the Casbin library (`casbin` on npm), so that Liftbridge's model and policy
 * files work unchanged (docs/security.md). A Casbin decision costs microseconds (it evaluates the
 * matcher against every rule), so decisions are cached until the next policy is loaded.
 *
 * Loading checks more than Casbin does, to fail closed: Casbin keeps a rule with too few fields
 * (that never matches) and drops lines of an undefined type without a word; both are errors here.
 */
export class CasbinClientAuthorizer implements ClientAuthorizer {
  private readonly decisions = new Map<string, boolean>();
  private version = 1;

  private constructor(
    private readonly files: CasbinFiles,
    private enforcer: Enforcer,
    private readonly logger: Logger,
  ) {}

  /** Loads the model and policy; throws AuthorizationPolicyError naming the key of a file that cannot be used. */
  static async load(files: CasbinFiles, logger: Logger): Promise<CasbinClientAuthorizer> {
    return new CasbinClientAuthorizer(files, await loadEnforcer(files), logger);
  }

  get policyVersion(): number {
    return this.version;
  }

  isAllowed(subject: string, object: string, action: string): boolean {
    const key = `${subject}\u0000${object}\u0000${action}`;
    const cached = this.decisions.get(key);
    if (cached !== undefined) return cached;
    const allowed = decide(this.enforcer, subject, object, action, this.logger);
    if (this.decisions.size >= DECISIONS_MAX) this.decisions.clear();
    this.decisions.set(key, allowed);
    return allowed;
  }

  /**
   * Reads the model and policy files again (SIGHUP). A file that cannot be used leaves the policy
   * in force as it was and is logged with the reason; returns whether the new one was taken.
   */
  async reload(): Promise<boolean> {
    let enforcer: Enforcer;
    try {
      enforcer = await loadEnforcer(this.files);
    } catch (error) {
      const key = error instanceof AuthorizationPolicyError ? error.key : this.files.policyKey;
      this.logger.error({ key, reason: (error as Error).message }, 'authorization policy not reloaded: the policy in force is kept');
      return false;
    }
    this.enforcer = enforcer;
    this.decisions.clear();
    this.version++;
    this.logger.info({ rules: ruleCount(enforcer), policyVersion: this.version }, 'authorization policy reloaded');
    return true;
  }
}

/** A model whose matcher fails at run time denies (fail closed); loading already tried it once. */
function decide(enforcer: Enforcer, subject: string, object: string, action: string, logger: Logger): boolean {
  try {
    return enforcer.enforceSync(subject, object, action);
  } catch (error) {
    logger.error({ subject, object, action, reason: (error as Error).message }, 'authorization model failed: denied');
    return false;
  }
}

async function loadEnforcer(files: CasbinFiles): Promise<Enforcer> {
  const [modelText, policyText] = await Promise.all([readSmallFile(files.modelKey, files.modelFile), readSmallFile(files.policyKey, files.policyFile)]);
  let model;
  try {
    model = newModelFromString(modelText);
  } catch (error) {
    throw new AuthorizationPolicyError(files.modelKey, `The Casbin model of "${files.modelKey}" (${files.modelFile}) cannot be used: ${(error as Error).message}`);
  }
  let enforcer: Enforcer;
  try {
    enforcer = await newEnforcer(model, new StringAdapter(policyText));
  } catch (error) {
    throw new AuthorizationPolicyError(files.policyKey, `The Casbin policy of "${files.policyKey}" (${files.policyFile}) cannot be used: ${(error as Error).message}`);
  }
  try {
    enforcer.enforceSync('', '', ''); // a matcher that cannot be evaluated fails here, not at the first call
  } catch (error) {
    throw new AuthorizationPolicyError(files.modelKey, `The Casbin model of "${files.modelKey}" (${files.modelFile}) cannot be evaluated: ${(error as Error).message}`);
  }
  const problem = policyProblem(enforcer, policyText);
  if (problem !== null) throw new AuthorizationPolicyError(files.policyKey, `The Casbin policy of "${files.policyKey}" (${files.policyFile}) cannot be used: ${problem}`);
  return enforcer;
}

async function readSmallFile(key: string, file: string): Promise<string> {
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new AuthorizationPolicyError(key, `Cannot read the file of "${key}": ${JSON.stringify(file)} (${reason})`);
  }
  if (data.length > FILE_BYTES_MAX) throw new AuthorizationPolicyError(key, `The file of "${key}" is too large: ${JSON.stringify(file)}`);
  return data.toString('utf8');
}

/** Rule types the model defines (`p`, `p2`, `g`, …) with their field counts. */
function definedRuleTypes(enforcer: Enforcer): Map<string, number> {
  const types = new Map<string, number>();
  for (const section of ['p', 'g']) {
    for (const [type, assertion] of enforcer.getModel().model.get(section) ?? new Map()) {
      // A role definition `g = _, _` has no named tokens: its field count is that of its value.
      types.set(type, section === 'g' ? assertion.value.split(',').length : assertion.tokens.length);
    }
  }
  return types;
}

/** A line of an undefined type, or a rule with the wrong number of fields; null when there is none. */
function policyProblem(enforcer: Enforcer, policyText: string): string | null {
  const types = definedRuleTypes(enforcer);
  const lines = policyText.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const type = line.split(',', 1)[0]!.trim();
    if (!types.has(type)) return `line ${i + 1}: rule type "${type}" is not defined by the model (defined: ${[...types.keys()].join(', ')})`;
  }
  for (const section of ['p', 'g']) {
    for (const [type, assertion] of enforcer.getModel().model.get(section) ?? new Map()) {
      const fields = types.get(type)!;
      const bad = assertion.policy.find((rule: string[]) => rule.length !== fields);
      if (bad !== undefined) return `rule "${[type, ...bad].join(', ')}" has ${bad.length} fields where the model's "${type}" has ${fields}`;
    }
  }
  return null;
}

function ruleCount(enforcer: Enforcer): number {
  let rules = 0;
  for (const section of ['p', 'g']) for (const assertion of (enforcer.getModel().model.get(section) ?? new Map()).values()) rules += assertion.policy.length;
  return rules;
}
