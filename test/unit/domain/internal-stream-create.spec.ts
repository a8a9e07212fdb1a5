import { decide } from '../../../src/domain/metadata/metadata-decide';
import { createStream, registerBroker, stateAfter } from '../../support/metadata-mothers';

const NS = 'liftbridge-default';

describe('CreateStream of an internal stream (reserved name, docs/consumers.md "Cursors")', () => {
  const state = stateAfter(registerBroker('a'));

  it('is allowed on its own subject under the namespace', () => {
    const result = decide(createStream('__cursors', { subject: `${NS}.cursors`, namespace: NS, partitions: 2 }), state);
    expect(result.ok).toBe(true);
  });

  it.each([
    ['another subject', 'cursors'],
    ['another internal subject', `${NS}.activity`],
    ['a subject under the namespace', `${NS}.cursors.x`],
  ])('is refused as reserved on %s', (_why, subject) => {
    expect(decide(createStream('__cursors', { subject, namespace: NS }), state)).toEqual({ ok: false, error: { kind: 'StreamNameReserved', stream: '__cursors' } });
  });

  it('does not let an ordinary stream capture the namespace', () => {
    expect(decide(createStream('cursors', { subject: `${NS}.cursors`, namespace: NS }), state)).toMatchObject({ ok: false, error: { kind: 'InvalidSubject' } });
  });
});
