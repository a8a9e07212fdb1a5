import { masterKeyProblem } from '../../adapters/outbound/crypto/master-key';
import { BrokerConfig } from '../config/broker-config';
import { readClusterSecret } from '../config/cluster-secret';
import { unimplementedSettingIssues } from '../config/setting-support';
import { natsCredentialsFileIssue } from '../nats/nats-security-settings';
import { openFilesBudget, processDescriptorLimit } from './open-files-budget';

/** What the start needs from the checks: nothing starts before they passed. */
export interface CheckedStart {
  /** The secret that signs internal traffic, or null (clustering.auth.secret[.file]). */
  readonly secret: Buffer | null;
  /** The process's limit on open descriptors, when it can be read. */
  readonly descriptorLimit: number | null;
  /** Descriptors the partition logs may keep open (streams.open.files.max resolved). */
  readonly openFilesMax: number;
}

/**
 * Fails closed before anything starts (docs/configuration.md "Settings the server cannot
 * honour"): settings that are not built, an unreadable secret or credentials file, encryption
 * without a usable key, an open-files budget the process limit cannot give. Each refusal names the key.
 */
export async function checkStartSettings(config: BrokerConfig): Promise<CheckedStart> {
  const secret = await readClusterSecret(config.clustering);
  const refused = unimplementedSettingIssues(config);
  const credentials = await natsCredentialsFileIssue(config.nats);
  if (credentials !== null) refused.push({ key: 'nats.credentials', message: credentials });
  if (refused.length > 0) throw new Error(`configuration refused: ${refused.map((i) => i.message).join('; ')}`);
  const keyProblem = config.streams.encryption ? masterKeyProblem(config.streams.encryptionKey) : null;
  if (keyProblem !== null) throw new Error(`configuration refused: "streams.encryption" is true but ${keyProblem}`);
  const descriptorLimit = processDescriptorLimit();
  const openFiles = openFilesBudget(config.streams.openFilesMax, descriptorLimit);
  if (!openFiles.ok) throw new Error(`configuration refused: ${openFiles.error}`);
  return { secret, descriptorLimit, openFilesMax: openFiles.value };
}
