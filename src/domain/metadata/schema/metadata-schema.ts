/**
 * The metadata schema (docs/raft.md "Metadata schema"): one version for everything the metadata
 * log stores (proposals in Raft entries, snapshots) and servers exchange about it (forwarded
 * commands and answers). Written: the current version. Read: every version listed here, so that
 * data already on disk keeps working; anything else is refused, never skipped.
 *
 * 1: expectations named aggregates as strings (`"stream:<name>"`, `"broker:<id>"`), brokers had no version.
 * 2: expectations name typed aggregates (stream, partition, broker), brokers carry a version.
 */
export const METADATA_SCHEMA_VERSION = 2;

export const isReadableSchemaVersion = (v: unknown): v is 1 | 2 => v === 1 || v === 2;

/** Data that is not metadata this version can read: garbage, a newer schema, a bad field. */
export class MetadataDecodeError extends Error {
  override readonly name: string = 'MetadataDecodeError';
}
