import fc from 'fast-check';
import { parseConfigText } from '../../../../src/infrastructure/config/config-file';
import { formatDurationMs, parseGoDurationMs } from '../../../../src/infrastructure/config/go-duration';
import { resolveBrokerConfig } from '../../../../src/infrastructure/config/load-config';

// docs/reliability.md "Bad inputs": parsers must never crash on any input; they answer with a value or an error.
const SEED = 20_240_611;

const braceToken = fc.constantFrom(
  'nats', 'log', 'clustering', 'servers', 'port', 'listen', 'log.level', 'segment.max.bytes', 'server.id',
  '{', '}', '[', ']', ':', '=', ';', ',', '\n', ' ', '#c\n', '// c\n', '"s"', "'r'", '1k', '1m', '20s', 'true', 'yes',
  '"\\x41"', '"\\q"', '$X', 'include', '(', 'nats://h:1', '-', '0123',
);

describe('configuration parsers under arbitrary input', () => {
  it('never throw on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (text) => {
        const r = parseConfigText(text, 'fuzz.conf');
        if (r.ok) resolveBrokerConfig({ file: r.value.settings, env: {} });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('never throw on brace-like token soup', () => {
    fc.assert(
      fc.property(fc.array(braceToken, { maxLength: 60 }), (tokens) => {
        const r = parseConfigText(tokens.join(''), 'fuzz.conf');
        if (r.ok) resolveBrokerConfig({ file: r.value.settings, env: {} });
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('never throw on YAML-like input', () => {
    const line = fc.tuple(fc.constantFrom('', '  ', '    ', '- '), fc.constantFrom('port', 'nats', 'servers', 'a.b', 'streams'), fc.constantFrom(':', ': 1', ': [a, b]', ': {x: 1}', ': "q"', ': &a 1', ': *a', ''));
    fc.assert(
      fc.property(fc.array(line, { maxLength: 20 }), (lines) => {
        parseConfigText(lines.map((l) => l.join('')).join('\n'), 'fuzz.yaml');
      }),
      { seed: SEED, numRuns: 400 },
    );
  });

  it('formats and re-parses every whole-millisecond duration', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 10 * 365 * 24 * 3_600_000 }), (ms) => {
        expect(parseGoDurationMs(formatDurationMs(ms))).toBe(ms);
      }),
      { seed: SEED, numRuns: 500 },
    );
  });
});
