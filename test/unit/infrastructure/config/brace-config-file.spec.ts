import { looksLikeBraceFormat, parseBraceConfig, type BraceEntry } from '../../../../src/infrastructure/config/brace-config-file';

const entries = (text: string): readonly BraceEntry[] => {
  const r = parseBraceConfig(text);
  if (r.kind !== 'entries') throw new Error(`unexpected parse failure: ${r.message} (line ${r.line})`);
  return r.entries;
};
const values = (text: string): Record<string, unknown> =>
  Object.fromEntries(
    entries(text).map((e) => [e.key, Array.isArray(e.value) ? e.value.map((v) => v.text) : (e.value as { value: unknown }).value]),
  );
const failure = (text: string): { message: string; line: number } => {
  const r = parseBraceConfig(text);
  if (r.kind !== 'invalid') throw new Error('expected a parse failure');
  return r;
};

describe('the pre-1.0 brace format parser (NATS configuration syntax)', () => {
  it('accepts =, : and whitespace as assignment, with optional ; terminators', () => {
    expect(values('a = 1\nb: 2;\nc 3\nd=4; e: 5')).toEqual({ a: 1, b: 2, c: 3, d: 4, e: 5 });
  });

  it('flattens blocks into dotted keys, with or without a separator before the brace', () => {
    expect(values('nats {\n servers: [x]\n}\nlog: { compact: true }\nclustering={server.id: a}')).toEqual({
      'nats.servers': ['x'],
      'log.compact': true,
      'clustering.server.id': 'a',
    });
  });

  it('skips # and // comments, but not // inside a bare value such as a URL', () => {
    expect(
      values('# top\n// also a comment\nservers: [nats://a:1 // c1\n, nats://b:2] # c2\nurl: nats://x:4222 // trailing\n'),
    ).toEqual({ servers: ['nats://a:1', 'nats://b:2'], url: 'nats://x:4222' });
  });

  it('reads quoted, escaped, single-quoted and bare strings', () => {
    const e = entries('a: "x\\ty\\"z\\x41"\nb: \'raw\\t\'\nc: localhost:9293\n"quoted key": 1');
    expect(e.map((x) => [x.key, (x.value as { text: string }).text])).toEqual([
      ['a', 'x\ty"zA'],
      ['b', 'raw\\t'],
      ['c', 'localhost:9293'],
      ['quoted key', '1'],
    ]);
  });

  it('reads booleans and numbers the NATS way, keeping the text for the key type to decide', () => {
    expect(values('a: yes\nb: OFF\nc: 1k\nd: 1kb\ne: 2MB\nf: -3\ng: 1.5\nh: 127.0.0.1:4222\ni: 1m')).toEqual({
      a: true,
      b: false,
      c: 1000,
      d: 1024,
      e: 2 * 1024 * 1024,
      f: -3,
      g: 1.5,
      h: '127.0.0.1:4222',
      i: 1_000_000,
    });
    expect(entries('i: 1m')[0]?.value).toEqual({ text: '1m', value: 1_000_000, quoted: false });
  });

  it('reads lists split by commas or newlines, with a trailing comma', () => {
    expect(values('peers: [\n  a\n  b,\n  "c",\n]')).toEqual({ peers: ['a', 'b', 'c'] });
  });

  it('records the line of each entry', () => {
    expect(entries('\n\na: 1\nblock {\n\n  b: 2\n}').map((e) => [e.key, e.line])).toEqual([
      ['a', 3],
      ['block.b', 6],
    ]);
  });

  it.each([
    ['a: 1\nb {\n c: 2\n', 4, 'missing "}" to close the block "b" opened at line 2'],
    ['a: [1, 2\n', 2, 'missing "]" to close the list "a" opened at line 1'],
    ['a: "open\n', 1, 'unterminated string'],
    ['}\n', 1, 'unexpected "}"'],
    ['a:\nb: 1', 1, 'missing value for "a"'],
    ['a: 1 2', 1, 'unexpected "2" after the value of "a"'],
    ['include ./other.conf', 1, '"include" is not supported'],
    ['a: $HOME', 1, 'variables such as "$HOME" are not supported'],
    ['a: [[1]]', 1, 'may only contain plain values'],
    ['a: "\\q"', 1, 'invalid escape'],
    ['a: [}]', 1, 'missing value for "a"'], // found by the property test: used to loop forever
    ['a {\n b: }', 2, 'missing value for "a.b"'],
  ])('reports %j as a syntax error at line %d', (text, line, message) => {
    const f = failure(text);
    expect(f.line).toBe(line);
    expect(f.message).toContain(message);
  });

  it('bounds nesting', () => {
    const deep = `${'a {'.repeat(40)}${'}'.repeat(40)}`;
    expect(failure(deep).message).toContain('nested deeper');
  });

  describe('format detection', () => {
    it.each([
      ['nats {\n servers: [x]\n}', true],
      ['port = 5050', true],
      ['// comment\nport: 1', true],
      ['listen: localhost:9293\nlog {\n  compact: true\n}', true],
      ['port: 5050\nnats:\n  servers: [a]\n', false],
      ['batch.max: {messages: 10, time: 1s}\nnats.password: a=b\n', false],
      ['# just a comment = not brace\n', false],
    ])('%j → brace format %s', (text, brace) => {
      expect(looksLikeBraceFormat(text)).toBe(brace);
    });
  });
});
