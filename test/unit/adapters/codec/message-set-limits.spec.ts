import fc from 'fast-check';
import {
  encodeNewRecords,
  NEW_RECORD_ENTRY_MIN_BYTES,
  newRecordEntryBytes,
  newRecordFieldProblem,
  UNSTORABLE_ENTRY_BYTES,
  USER_HEADER_COUNT_MAX,
} from '../../../../src/adapters/codec/message-set';

const bytes = (n: number): Buffer => Buffer.alloc(n, 0x61);
const utf8Bytes = (s: string): number => Buffer.byteLength(s);

/** `count` distinct header names with empty values. */
const manyHeaders = (count: number): Record<string, Uint8Array> => {
  const headers: Record<string, Uint8Array> = {};
  for (let i = 0; i < count; i++) headers[`h${i}`] = bytes(0);
  return headers;
};

describe('message-set limits of a leader record', () => {
  it('a record with nothing in it is a 68-byte entry: 28 header + 16 message + 24 for the server headers', () => {
    expect(NEW_RECORD_ENTRY_MIN_BYTES).toBe(68);
    expect(newRecordEntryBytes(null, null, null, 0, 0)).toBe(68);
    expect(encodeNewRecords([{ key: null, value: null, headers: null, subject: '', reply: '' }], 0, 1n, 0).length).toBe(68);
  });

  it('predicts exactly the bytes the encoder writes (server header names are replaced, not counted twice)', () => {
    const record = fc.record({
      key: fc.option(fc.uint8Array({ maxLength: 40 }), { nil: null }),
      value: fc.option(fc.uint8Array({ maxLength: 200 }), { nil: null }),
      headers: fc.option(
        fc.dictionary(fc.oneof(fc.string({ maxLength: 12 }), fc.constantFrom('subject', 'reply'), fc.string({ unit: 'binary', maxLength: 6 })), fc.uint8Array({ maxLength: 20 }), { maxKeys: 6 }),
        { nil: null },
      ),
      subject: fc.string({ unit: 'binary', minLength: 1, maxLength: 30 }),
      reply: fc.string({ unit: 'binary', maxLength: 30 }),
    });
    fc.assert(
      fc.property(record, (r) => {
        const headers = r.headers === null ? null : (Object.assign(Object.create(null), r.headers) as Record<string, Uint8Array>);
        const predicted = newRecordEntryBytes(r.key, r.value, headers, utf8Bytes(r.subject), utf8Bytes(r.reply));
        expect(predicted).toBe(encodeNewRecords([{ ...r, headers }], 0, 1n, 0).length);
        expect(newRecordFieldProblem(r.key, r.value, headers)).toBeNull();
      }),
    );
  });

  it('a header name of 32,768 UTF-8 bytes cannot be stored; 32,767 can', () => {
    const fits = { ['n'.repeat(32_767)]: bytes(1) };
    const tooLong = { ['n'.repeat(32_768)]: bytes(1) };
    expect(newRecordEntryBytes(null, bytes(1), fits, 1, 0)).toBe(68 + 1 + 6 + 32_767 + 1 + 1);
    expect(newRecordEntryBytes(null, bytes(1), tooLong, 1, 0)).toBe(UNSTORABLE_ENTRY_BYTES);
    expect(newRecordFieldProblem(null, bytes(1), tooLong)).toBe('invalid headers: a header name of 32768 bytes is longer than the limit of 32767 bytes');
    // Multi-byte characters count as their UTF-8 bytes: 10,923 × 3 bytes = 32,769.
    expect(newRecordEntryBytes(null, null, { ['€'.repeat(10_923)]: bytes(0) }, 1, 0)).toBe(UNSTORABLE_ENTRY_BYTES);
    expect(() => encodeNewRecords([{ key: null, value: null, headers: tooLong, subject: 's', reply: '' }], 0, 1n, 0)).toThrow(RangeError);
  });

  it('at most 32,765 user headers: the int16 count also holds the two server headers', () => {
    expect(USER_HEADER_COUNT_MAX).toBe(32_765);
    expect(newRecordEntryBytes(null, null, manyHeaders(32_765), 1, 0)).toBeLessThan(UNSTORABLE_ENTRY_BYTES);
    expect(newRecordEntryBytes(null, null, manyHeaders(32_766), 1, 0)).toBe(UNSTORABLE_ENTRY_BYTES);
    // User headers named like the server headers are replaced, so they do not count.
    expect(newRecordEntryBytes(null, null, { ...manyHeaders(32_765), subject: bytes(1), reply: bytes(1) }, 1, 0)).toBeLessThan(UNSTORABLE_ENTRY_BYTES);
    expect(newRecordFieldProblem(null, null, manyHeaders(32_766))).toBe('invalid headers: 32766 headers, more than the limit of 32765');
    expect(() => encodeNewRecords([{ key: null, value: null, headers: manyHeaders(32_766), subject: 's', reply: '' }], 0, 1n, 0)).toThrow(RangeError);
  });

  it('a message above 100 MiB cannot be stored', () => {
    const value = { length: 100 * 1024 * 1024 } as Uint8Array; // only the length is read
    expect(newRecordEntryBytes(null, value, null, 1, 0)).toBe(UNSTORABLE_ENTRY_BYTES);
    expect(newRecordFieldProblem(null, value, null)).toBeNull();
    expect(newRecordFieldProblem(null, { length: 100 * 1024 * 1024 + 1 } as Uint8Array, null)).toMatch(/^invalid value: 104857601 bytes/);
  });
});
