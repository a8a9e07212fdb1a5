import { crc32c } from '@node-rs/crc32';
import { DecodedEntry, decodeMessageSet } from '../../src/adapters/codec/message-set-decode';
import { ENTRY_HEADER_BYTES, ENTRY_SIZE_POS, MESSAGE_CRC_BYTES } from '../../src/adapters/codec/message-set-layout';

/**
 * Decodes entries opened by a ValueOpener, checking everything decodeMessageSet checks but the
 * CRC-32C, which an opened entry does not carry for its plaintext (ValueOpener.open): each entry's
 * CRC is computed here first, on a copy.
 */
export function decodeOpened(opened: Buffer): DecodedEntry[] {
  const bytes = Buffer.from(opened);
  for (let pos = 0; pos + ENTRY_HEADER_BYTES <= bytes.length; ) {
    const end = pos + ENTRY_HEADER_BYTES + bytes.readUInt32BE(pos + ENTRY_SIZE_POS);
    const messageAt = pos + ENTRY_HEADER_BYTES;
    if (end > bytes.length) break; // decodeMessageSet reports it
    bytes.writeUInt32BE(crc32c(bytes.subarray(messageAt + MESSAGE_CRC_BYTES, end)), messageAt);
    pos = end;
  }
  return decodeMessageSet(bytes);
}
