/**
 * Where a cursor lives (docs/consumers.md "Cursors"): its key is `<cursorId>,<stream>,<partition>`
 * (commas, as the Go server writes it) and it is owned by `__cursors` partition
 * CRC-32 IEEE(key) mod partitions, unsigned, so that Go and TypeScript clients route the same way.
 */
export const cursorKey = (cursorId: string, stream: string, partition: number): string => `${cursorId},${stream},${partition}`;

const IEEE_TABLE: Uint32Array = (() => {
  const table = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c >>> 0;
  }
  return table;
})();

/** CRC-32 IEEE (the checksum of zlib and Go's `crc32.ChecksumIEEE`), unsigned. */
export function crc32Ieee(bytes: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of bytes) crc = IEEE_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

const utf8 = new TextEncoder();

/** The `__cursors` partition that owns `key`. */
export function cursorPartition(key: string, partitions: number): number {
  return crc32Ieee(utf8.encode(key)) % partitions;
}
