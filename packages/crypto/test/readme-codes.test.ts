// The README lists every error code in full (CONVENTIONS.md "Errors"): its "Error codes" table
// holds exactly CRYPTO_ERROR_CODES, and every code named anywhere in it exists.
import { describeReadmeCodes } from '@edgebox/runtime/testing';
import { CRYPTO_ERROR_CODES } from '../src/errors.js';

describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: CRYPTO_ERROR_CODES });
