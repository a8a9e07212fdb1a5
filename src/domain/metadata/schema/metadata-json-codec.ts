import { decodeMetadataSnapshot, encodeMetadataSnapshot } from '../metadata-snapshot';
import { MetadataProposal } from '../metadata-proposal';
import { MetadataState } from '../metadata-state';
import { decodeMetadataProposal, encodeMetadataProposal } from './proposal-codec';

/** The metadata schema as JSON (metadata-schema.ts), in the shape of the application's MetadataCodec port. */
export const metadataJsonCodec = {
  encodeProposal: (proposal: MetadataProposal): string => encodeMetadataProposal(proposal),
  decodeProposal: (data: string): MetadataProposal => decodeMetadataProposal(data),
  encodeSnapshot: (state: MetadataState): string => encodeMetadataSnapshot(state),
  decodeSnapshot: (data: string | Uint8Array): MetadataState => decodeMetadataSnapshot(data),
};
