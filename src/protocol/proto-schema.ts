import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';
import { ProtobufDecodeError, ProtobufEncodeError } from './codec-errors';
import { WIRE_LENGTH_DELIMITED, WireReader } from './protobuf-wire';

/**
 * Runtime loading of the `.proto` files and a reflection-driven codec over protobufjs.
 *
 * Conventions of the plain objects on our side of the codec (the TS interfaces in api-types.ts):
 * field names exactly as in the proto (keepCase); every 64-bit integer is a `bigint` (values such
 * as nanosecond timestamps exceed 2^53, docs/protocol.md "Conventions"); bytes are `Buffer`; repeated fields are
 * arrays; maps are null-prototype records; enums are numbers (proto3 enums are open, so unknown
 * values survive); an absent sub-message is `undefined`; an absent scalar is its proto3 default.
 * Encoding omits proto3 defaults, as Go's marshaller does.
 */

/** Which file under `proto/`. */
export type ProtoFileName = 'api.proto' | 'health.proto' | 'internal.proto' | 'liftbridge-ts-admin.proto';

/**
 * The directory holding `package.json` and `proto/`, found by walking up from this file, so that the
 * same code works from `src/` (ts-jest, ts-node) and from the compiled `dist/src/`.
 */
export function findProtoDirectory(startDir: string = __dirname): string {
  let dir = path.resolve(startDir);
  for (;;) {
    const protoDir = path.join(dir, 'proto');
    if (fs.existsSync(path.join(dir, 'package.json')) && fs.existsSync(protoDir)) return protoDir;
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json with a proto/ directory above ${startDir}`);
    dir = parent;
  }
}

/** Parses one of our `.proto` files into a fresh, fully resolved protobufjs Root. */
export function loadProtoRoot(file: ProtoFileName): protobuf.Root {
  // Without long.js protobufjs decodes int64 into lossy JS numbers; it is a declared dependency,
  // so its absence is a broken installation, not something to tolerate.
  if (!protobuf.util.Long) throw new Error('protobufjs did not find the "long" package');
  const root = new protobuf.Root().loadSync(path.join(findProtoDirectory(), file), { keepCase: true });
  root.resolveAll();
  return root;
}

/**
 * Memoizes a pure, argument-less factory. Used for the parsed schemas: they are immutable and the
 * same for every broker in the process, so sharing them is not the per-broker module state that
 * docs/style.md "Composition root" forbids; it only saves re-parsing the files on every call.
 */
export function lazy<T>(factory: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= factory());
}

/**
 * Input accepted by an encoder: every field optional (absent = proto3 default), 64-bit integers as
 * `bigint` or safe-integer `number`, bytes as any `Uint8Array`.
 */
export type ProtoInit<T> = T extends Uint8Array
  ? Uint8Array
  : T extends bigint
    ? bigint | number
    : T extends string | number | boolean
      ? T
      : T extends readonly (infer E)[]
        ? readonly ProtoInit<E>[]
        : T extends object
          ? { readonly [K in keyof T]?: ProtoInit<T[K]> }
          : T;

export interface MessageCodec<T> {
  readonly typeName: string;
  /** Encodes; throws ProtobufEncodeError on a value of the wrong JS type or out of range. */
  encode(value: ProtoInit<T>): Buffer;
  /** Decodes; throws ProtobufDecodeError on malformed bytes. Bytes fields alias `bytes`. */
  decode(bytes: Uint8Array): T;
}

type ScalarKind = 'long' | 'ulong' | 'bytes' | 'string' | 'bool' | 'int' | 'uint' | 'float' | 'enum';
type FieldKind = ScalarKind | 'message';

interface FieldPlan {
  readonly id: number;
  readonly name: string;
  readonly kind: FieldKind;
  readonly repeated: boolean;
  readonly mapKeyKind: ScalarKind | null;
  readonly messageType: protobuf.Type | null;
}

const SCALAR_KINDS: Readonly<Record<string, ScalarKind>> = {
  int64: 'long', sint64: 'long', sfixed64: 'long',
  uint64: 'ulong', fixed64: 'ulong',
  int32: 'int', sint32: 'int', sfixed32: 'int',
  uint32: 'uint', fixed32: 'uint',
  double: 'float', float: 'float',
  bool: 'bool', string: 'string', bytes: 'bytes',
};

function planField(field: protobuf.Field): FieldPlan {
  const resolved = field.resolvedType;
  let kind: FieldKind;
  if (resolved instanceof protobuf.Type) kind = 'message';
  else if (resolved instanceof protobuf.Enum) kind = 'enum';
  else kind = SCALAR_KINDS[field.type] ?? unsupported(field, field.type);
  let mapKeyKind: ScalarKind | null = null;
  if (field instanceof protobuf.MapField) {
    const keyKind = SCALAR_KINDS[field.keyType];
    // 64-bit and bool keys are keyed by hashes/strings in protobufjs; our protos do not use them.
    if (keyKind !== 'string' && keyKind !== 'int' && keyKind !== 'uint') unsupported(field, field.keyType);
    mapKeyKind = keyKind;
  }
  return {
    id: field.id,
    name: field.name,
    kind,
    repeated: field.repeated,
    mapKeyKind,
    messageType: resolved instanceof protobuf.Type ? resolved : null,
  };
}

function unsupported(field: protobuf.Field, type: string): never {
  throw new Error(`${field.fullName}: field type ${type} is not supported by the codec`);
}

/** Creates a codec for one message type of a resolved Root. */
export function createMessageCodec<T>(root: protobuf.Root, typeName: string): MessageCodec<T> {
  const type = root.lookupType(typeName);
  const plans = new Map<protobuf.Type, readonly FieldPlan[]>();
  const planOf = (t: protobuf.Type): readonly FieldPlan[] => {
    let plan = plans.get(t);
    if (plan === undefined) {
      plan = t.fieldsArray.map(planField);
      plans.set(t, plan);
    }
    return plan;
  };
  return {
    typeName: type.fullName.replace(/^\./, ''),
    encode(value: ProtoInit<T>): Buffer {
      const wire = toWire(planOf, type, value, type.name);
      const bytes = type.encode(wire).finish();
      return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    decode(bytes: Uint8Array): T {
      let message: protobuf.Message;
      try {
        const buffer = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
        validateWire(planOf, type, new WireReader(buffer, 0, buffer.length), 0);
        message = type.decode(buffer);
      } catch (cause) {
        const reason = cause instanceof Error ? cause.message : String(cause);
        throw new ProtobufDecodeError(`malformed ${type.fullName.replace(/^\./, '')}: ${reason}`, { cause });
      }
      return fromWire(planOf, type, message as unknown as Record<string, unknown>) as T;
    },
  };
}

type PlanOf = (t: protobuf.Type) => readonly FieldPlan[];

// ---------------------------------------------------------------------------------------------
// Structural validation before protobufjs decodes. protobufjs 7 is lenient with some truncations
// (a string whose length runs past the end is cut short; a 64-bit varint within the last 4 bytes
// is ended early), so we walk the wire format first, with bounds checks at every level of nesting
// the schema knows about. It adds no semantics: unknown fields and wire-type mismatches are still
// skipped, exactly as protobufjs skips them.

/** Bound on nesting; our schemas are at most 4 levels deep and not recursive. */
const NESTING_DEPTH_MAX = 32;

const VARINT_KINDS: ReadonlySet<FieldKind> = new Set<FieldKind>(['long', 'ulong', 'int', 'uint', 'bool', 'enum']);

function validateWire(planOf: PlanOf, type: protobuf.Type, r: WireReader, depth: number): void {
  if (depth > NESTING_DEPTH_MAX) throw r.fail('messages nested too deeply');
  const plans = planOf(type);
  while (!r.done) {
    const key = r.readKey();
    const wireType = key & 7;
    const plan = wireType === WIRE_LENGTH_DELIMITED ? findPlan(plans, key >>> 3) : undefined;
    if (plan === undefined) {
      r.skip(wireType, key >>> 3);
      continue;
    }
    const start = r.readLengthDelimited();
    const inner = new WireReader(r.buf, start, r.pos);
    if (plan.mapKeyKind !== null) validateMapEntry(planOf, plan, inner, depth + 1);
    else if (plan.messageType !== null) validateWire(planOf, plan.messageType, inner, depth + 1);
    else if (plan.repeated && VARINT_KINDS.has(plan.kind)) while (!inner.done) inner.readVarint64();
  }
}

function findPlan(plans: readonly FieldPlan[], id: number): FieldPlan | undefined {
  for (const plan of plans) if (plan.id === id) return plan;
  return undefined;
}

function validateMapEntry(planOf: PlanOf, plan: FieldPlan, r: WireReader, depth: number): void {
  while (!r.done) {
    const key = r.readKey();
    const wireType = key & 7;
    if (key >>> 3 === 2 && wireType === WIRE_LENGTH_DELIMITED && plan.messageType !== null) {
      const start = r.readLengthDelimited();
      validateWire(planOf, plan.messageType, new WireReader(r.buf, start, r.pos), depth + 1);
    } else {
      r.skip(wireType, key >>> 3);
    }
  }
}

// ---------------------------------------------------------------------------------------------
// Plain object -> protobufjs object (validated, proto3 defaults omitted)

function toWire(planOf: PlanOf, type: protobuf.Type, value: unknown, where: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || value instanceof Uint8Array) {
    throw new ProtobufEncodeError(`${where}: expected a ${type.name} object`);
  }
  const source = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const plan of planOf(type)) {
    const v = source[plan.name];
    if (v === undefined || v === null) continue;
    const at = `${where}.${plan.name}`;
    if (plan.mapKeyKind !== null) {
      if (typeof v !== 'object' || Array.isArray(v)) throw new ProtobufEncodeError(`${at}: expected a record`);
      const keys = Object.keys(v);
      if (keys.length === 0) continue;
      const map: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      for (const key of keys) {
        if (plan.mapKeyKind !== 'string') toWireScalar(plan.mapKeyKind, Number(key), `${at} key`);
        const entry = (v as Record<string, unknown>)[key];
        map[key] = plan.messageType !== null
          ? toWire(planOf, plan.messageType, entry, `${at}[${key}]`)
          : toWireScalar(plan.kind as ScalarKind, entry, `${at}[${key}]`);
      }
      out[plan.name] = map;
    } else if (plan.repeated) {
      if (!Array.isArray(v)) throw new ProtobufEncodeError(`${at}: expected an array`);
      if (v.length === 0) continue;
      out[plan.name] = v.map((item: unknown, i: number) => plan.messageType !== null
        ? toWire(planOf, plan.messageType, item, `${at}[${i}]`)
        : toWireScalar(plan.kind as ScalarKind, item, `${at}[${i}]`));
    } else if (plan.messageType !== null) {
      out[plan.name] = toWire(planOf, plan.messageType, v, at);
    } else {
      const scalar = toWireScalar(plan.kind as ScalarKind, v, at);
      if (!isDefaultScalar(scalar)) out[plan.name] = scalar;
    }
  }
  return out;
}

const INT32_MIN = -0x80000000;
const INT32_MAX = 0x7fffffff;
const UINT32_MAX = 0xffffffff;

function toWireScalar(kind: ScalarKind, v: unknown, at: string): unknown {
  switch (kind) {
    case 'string':
      if (typeof v !== 'string') throw new ProtobufEncodeError(`${at}: expected a string`);
      return v;
    case 'bool':
      if (typeof v !== 'boolean') throw new ProtobufEncodeError(`${at}: expected a boolean`);
      return v;
    case 'bytes':
      if (!(v instanceof Uint8Array)) throw new ProtobufEncodeError(`${at}: expected a Uint8Array`);
      return v;
    case 'float':
      if (typeof v !== 'number') throw new ProtobufEncodeError(`${at}: expected a number`);
      return v;
    case 'int':
    case 'enum':
      if (!Number.isInteger(v) || (v as number) < INT32_MIN || (v as number) > INT32_MAX) {
        throw new ProtobufEncodeError(`${at}: expected an int32, got ${String(v)}`);
      }
      return v;
    case 'uint':
      if (!Number.isInteger(v) || (v as number) < 0 || (v as number) > UINT32_MAX) {
        throw new ProtobufEncodeError(`${at}: expected a uint32, got ${String(v)}`);
      }
      return v;
    case 'long':
    case 'ulong':
      return toLongBits(kind === 'ulong', v, at);
  }
}

/** A protobufjs-compatible Long-like value (protobufjs reads only `low`, `high`, `unsigned`). */
interface LongLike {
  readonly low: number;
  readonly high: number;
  readonly unsigned: boolean;
}

function toLongBits(unsigned: boolean, v: unknown, at: string): LongLike {
  let big: bigint;
  if (typeof v === 'bigint') big = v;
  else if (typeof v === 'number' && Number.isSafeInteger(v)) big = BigInt(v);
  else throw new ProtobufEncodeError(`${at}: expected a bigint or a safe integer, got ${String(v)}`);
  const fits = unsigned ? BigInt.asUintN(64, big) === big : BigInt.asIntN(64, big) === big;
  if (!fits) throw new ProtobufEncodeError(`${at}: ${big} does not fit in ${unsigned ? 'uint64' : 'int64'}`);
  const bits = BigInt.asUintN(64, big);
  return { low: Number(bits & 0xffffffffn) | 0, high: Number(bits >> 32n) | 0, unsigned };
}

function isDefaultScalar(v: unknown): boolean {
  if (v === 0 || v === '' || v === false) return true;
  if (v instanceof Uint8Array) return v.length === 0;
  if (typeof v === 'object' && v !== null && 'low' in v) {
    const bits = v as LongLike;
    return bits.low === 0 && bits.high === 0;
  }
  return false;
}

// ---------------------------------------------------------------------------------------------
// protobufjs message -> plain object (longs to bigint, bytes to Buffer, defaults filled in)

function fromWire(planOf: PlanOf, type: protobuf.Type, message: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const plan of planOf(type)) {
    const v = message[plan.name];
    if (plan.mapKeyKind !== null) {
      const map: Record<string, unknown> = Object.create(null) as Record<string, unknown>;
      if (v !== null && typeof v === 'object') {
        for (const key of Object.keys(v)) {
          const entry = (v as Record<string, unknown>)[key];
          const outKey = plan.mapKeyKind === 'string' ? key : String(Number(key));
          map[outKey] = plan.messageType !== null
            ? fromWire(planOf, plan.messageType, (entry ?? {}) as Record<string, unknown>)
            : fromWireScalar(plan.kind as ScalarKind, entry);
        }
      }
      out[plan.name] = map;
    } else if (plan.repeated) {
      const items = Array.isArray(v) ? v : [];
      out[plan.name] = items.map((item: unknown) => plan.messageType !== null
        ? fromWire(planOf, plan.messageType, item as Record<string, unknown>)
        : fromWireScalar(plan.kind as ScalarKind, item));
    } else if (plan.messageType !== null) {
      out[plan.name] = v === null || v === undefined
        ? undefined
        : fromWire(planOf, plan.messageType, v as Record<string, unknown>);
    } else {
      out[plan.name] = fromWireScalar(plan.kind as ScalarKind, v);
    }
  }
  return out;
}

const EMPTY_BYTES_LENGTH = 0;

function fromWireScalar(kind: ScalarKind, v: unknown): unknown {
  switch (kind) {
    case 'string':
      return typeof v === 'string' ? v : '';
    case 'bool':
      return v === true;
    case 'bytes':
      if (Buffer.isBuffer(v)) return v;
      if (v instanceof Uint8Array) return Buffer.from(v.buffer, v.byteOffset, v.byteLength);
      return Buffer.alloc(EMPTY_BYTES_LENGTH);
    case 'int':
    case 'uint':
    case 'enum':
    case 'float':
      return typeof v === 'number' ? v : 0;
    case 'long':
      return longToBigInt(v, false);
    case 'ulong':
      return longToBigInt(v, true);
  }
}

/** Lossless Long (or small number) to bigint; `unsigned` follows the field type, not the Long. */
export function longToBigInt(v: unknown, unsigned: boolean): bigint {
  if (typeof v === 'number') return BigInt(v);
  if (typeof v === 'bigint') return v;
  if (typeof v === 'object' && v !== null && 'low' in v && 'high' in v) {
    const { low, high } = v as LongLike;
    const bits = (BigInt(high >>> 0) << 32n) | BigInt(low >>> 0);
    return unsigned ? bits : BigInt.asIntN(64, bits);
  }
  return 0n;
}
