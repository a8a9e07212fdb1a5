import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min, validateSync, ValidationError } from 'class-validator';
import { newRecordFieldProblem } from '../../codec/message-set-limits';

const INT32_MAX = 2 ** 31 - 1;
const NAME_BYTES_MAX = 1024;

/** Shape checks at the edge (docs/style.md "Composition root"); business rules stay in the domain. */
export class CreateStreamDto {
  @IsString() @MaxLength(NAME_BYTES_MAX) name!: string;
  @IsString() @MaxLength(4096) subject!: string;
  @IsString() @MaxLength(NAME_BYTES_MAX) group!: string;
  @IsInt() @Min(-1) @Max(INT32_MAX) replicationFactor!: number;
  @IsInt() @Min(0) @Max(INT32_MAX) partitions!: number;
}

/** What both publish requests carry and the storage format limits (docs/storage.md §1.5). */
interface PublishedFields {
  readonly key: Uint8Array;
  readonly value: Uint8Array;
  readonly headers: Readonly<Record<string, Uint8Array>>;
  readonly correlationId: string;
}

/**
 * Publish requests are checked by hand: PublishAsync is the hot path and a class-validator pass
 * per message would cost more than the rest of the request handling. Everything the storage
 * format cannot hold is refused here, naming the field, before anything reaches NATS.
 */
export function publishRequestProblem(req: PublishedFields & { partition: number; ackPolicy: number; stream: string; expectedOffset: bigint }): string | null {
  if (!Number.isInteger(req.partition) || req.partition < 0) return `invalid partition: ${req.partition}`;
  if (req.ackPolicy !== 0 && req.ackPolicy !== 1 && req.ackPolicy !== 2) return `invalid ackPolicy: ${req.ackPolicy}`;
  if (req.stream.length > NAME_BYTES_MAX) return 'invalid stream: longer than 1024 characters';
  // -1 = no optimistic-concurrency check; anything lower is no offset at all (docs/compatibility.md).
  if (req.expectedOffset < -1n) return `invalid expectedOffset: ${req.expectedOffset} (-1 for no check, else an offset >= 0)`;
  return publishedFieldsProblem(req);
}

/** PublishToSubject: its subject and ack inbox are checked by the use case (namespace rules). */
export function publishedFieldsProblem(req: PublishedFields): string | null {
  if (req.correlationId.length > NAME_BYTES_MAX) return 'invalid correlationId: longer than 1024 characters';
  return newRecordFieldProblem(req.key, req.value, req.headers);
}

export class SubscribeDto {
  @IsString() @MaxLength(NAME_BYTES_MAX) stream!: string;
  @IsInt() @Min(0) @Max(INT32_MAX) partition!: number;
  @IsIn([0, 1, 2, 3, 4]) startPosition!: number;
  @IsIn([0, 1, 2, 3]) stopPosition!: number;
  @IsBoolean() readISRReplica!: boolean;
}

/** The first constraint a request breaks, as a readable sentence, or null. */
export function dtoProblem<T extends object>(cls: new () => T, plain: object): string | null {
  const errors = validateSync(plainToInstance(cls, plain), { forbidUnknownValues: false });
  return errors.length === 0 ? null : describe(errors[0]!);
}

function describe(error: ValidationError): string {
  const constraint = Object.values(error.constraints ?? {})[0] ?? 'is invalid';
  return `invalid ${error.property}: ${constraint}`;
}
