import { CodeAttempt } from '../accounts/code-attempt.entity';
import { Otp } from '../accounts/otp.entity';
import { RecoveryCode } from '../accounts/recovery-code.entity';
import { Registration } from '../accounts/registration.entity';
import { Session } from '../accounts/session.entity';
import { User } from '../accounts/user.entity';
import { Task } from '../agent/task.entity';
import { Upload } from '../agent/upload.entity';
import { ApiKey } from '../api-keys/api-key.entity';
import { Purchase } from '../credits/purchase.entity';
import { StripeEvent } from '../credits/stripe-event.entity';
import { Transaction } from '../credits/transaction.entity';
import { IdempotencyKey } from '../idempotency/idempotency-key.entity';
import { SecurityEvent } from '../security-log/security-event.entity';

/** Every entity of every capability; the ORM and the migration generator both read this list. */
export const entities = [User, Session, Otp, ApiKey, Transaction, Purchase, StripeEvent, Task, SecurityEvent, CodeAttempt, RecoveryCode, Registration, Upload, IdempotencyKey];
