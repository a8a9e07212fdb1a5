/** A primitive that carries a compile-time tag so that, say, a stream name is never passed as a subject. */
export type Brand<T, B extends string> = T & { readonly __brand: B };
