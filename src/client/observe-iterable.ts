import { Observable } from 'rxjs';

/** What the client's iterables share: iterate it, close it to end the iteration. */
export interface Closable<T> extends AsyncIterable<T> {
  close(): unknown;
}

/**
 * A cold rxjs Observable over one of the client's async iterables: subscribing opens it,
 * unsubscribing closes it. A value counts as handled once `next` returned for it, which is what
 * the durable and group consumers need: the next value is only asked for after that, so their
 * checkpoints never run ahead of the observer (docs/client.md "Observables").
 */
export function observeIterable<T>(open: () => Closable<T>): Observable<T> {
  return new Observable<T>((observer) => {
    const source = open();
    void (async () => {
      try {
        for await (const value of source) {
          if (observer.closed) break;
          observer.next(value);
          if (observer.closed) break;
        }
        observer.complete();
      } catch (error) {
        observer.error(error);
      }
    })();
    return () => void source.close();
  });
}
