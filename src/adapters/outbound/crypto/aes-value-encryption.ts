import { ValueEncryption, ValueOpener, ValueSealer } from '../../../application/ports/value-encryption.port';
import { AesGcmValueOpener } from './aes-gcm-value-opener';
import { AesGcmValueSealer } from './aes-gcm-value-sealer';
import { MasterKey, masterKeyProblem } from './master-key';
import { UnwrappedDataKeys } from './unwrapped-data-keys';

/**
 * Encryption at rest as Go Liftbridge does it (docs/encryption.md): AES-256-GCM values under
 * per-leader data keys, wrapped with AES-KWP under the master key from LIFTBRIDGE_ENCRYPTION_KEY.
 * Without a usable master key it still hands out sealers and openers, which refuse.
 */
export class AesValueEncryption implements ValueEncryption {
  readonly unavailableReason: string | null;
  readonly #kek: Buffer | null;
  readonly #dataKeys = new UnwrappedDataKeys();

  constructor(masterKey: MasterKey | null) {
    this.unavailableReason = masterKeyProblem(masterKey);
    this.#kek = this.unavailableReason === null && masterKey !== null ? masterKey.bytes() : null;
  }

  sealer(): ValueSealer {
    return new AesGcmValueSealer(this.#kek, this.unavailableReason);
  }

  opener(): ValueOpener {
    return new AesGcmValueOpener(this.#kek, this.unavailableReason, this.#dataKeys);
  }
}
