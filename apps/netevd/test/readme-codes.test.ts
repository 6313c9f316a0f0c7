// The README lists every error code in full (CONVENTIONS.md "Errors"): its "Error codes" table
// holds exactly NETEVD_ERROR_CODES, and every code named anywhere in it exists.
import { describeReadmeCodes } from '@edgebox/runtime/testing';
import { NETEVD_ERROR_CODES } from '../src/errors.js';

describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: NETEVD_ERROR_CODES });
