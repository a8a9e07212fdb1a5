import { plainToInstance } from 'class-transformer';
import { IsBoolean, IsIn, IsInt, IsString, Max, MaxLength, Min, validateSync, ValidationError } from 'class-validator';

const INT32_MAX = 2 ** 31 - 1;
const NAME_BYTES_MAX = 1024;

/** Shape checks at the edge (style §4.8); business rules stay in the domain. */
export class CreateStreamDto {
  @IsString() @MaxLength(NAME_BYTES_MAX) name!: string;
  @IsString() @MaxLength(4096) subject!: string;
  @IsString() @MaxLength(NAME_BYTES_MAX) group!: string;
  @IsInt() @Min(-1) @Max(INT32_MAX) replicationFactor!: number;
  @IsInt() @Min(0) @Max(INT32_MAX) partitions!: number;
}

/**
 * Publish requests are checked by hand: PublishAsync is the hot path and a class-validator pass
 * per message would cost more than the rest of the request handling.
 */
export function publishRequestProblem(req: { partition: number; ackPolicy: number; stream: string; correlationId: string }): string | null {
  if (!Number.isInteger(req.partition) || req.partition < 0) return `invalid partition: ${req.partition}`;
  if (req.ackPolicy !== 0 && req.ackPolicy !== 1 && req.ackPolicy !== 2) return `invalid ackPolicy: ${req.ackPolicy}`;
  if (req.stream.length > NAME_BYTES_MAX) return 'invalid stream: longer than 1024 characters';
  if (req.correlationId.length > NAME_BYTES_MAX) return 'invalid correlationId: longer than 1024 characters';
  return null;
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
