import { MaxLength } from 'class-validator';
import { Field } from 'type-graphql';
import { MAX_IDEMPOTENCY_KEY_LENGTH } from './idempotency.service';

/**
 * `idempotencyKey` on the input of a mutation that creates or spends (with the Idempotent middleware on the
 * mutation): retried with the same key, it runs once (README: "Idempotency keys").
 */
export function IdempotencyKeyField(): PropertyDecorator {
  return (target, property) => {
    Field(() => String, {
      nullable: true,
      description: `Your unique key for this request (1 to ${MAX_IDEMPOTENCY_KEY_LENGTH} characters, e.g. a UUID): a retry with the same key and input gets the first answer back instead of running again, while the key is kept (24 hours unless the service is configured otherwise).`,
    })(target, property);
    MaxLength(MAX_IDEMPOTENCY_KEY_LENGTH)(target, property);
  };
}
