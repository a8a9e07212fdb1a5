import type { MetadataProposal } from '../../domain/metadata/metadata-proposal';
import type { MetadataState } from '../../domain/metadata/metadata-state';

/**
 * How the metadata log stores proposals (one per Raft entry) and snapshots of the whole state. The
 * default is the JSON schema of src/domain/metadata/schema (docs/raft.md "Metadata schema").
 * Decoders throw on data they cannot read, naming the field; the log then stops rather than skip.
 */
export interface MetadataCodec {
  encodeProposal(proposal: MetadataProposal): string;
  decodeProposal(data: string): MetadataProposal;
  encodeSnapshot(state: MetadataState): string;
  decodeSnapshot(data: string | Uint8Array): MetadataState;
}
