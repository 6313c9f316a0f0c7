// The README lists every error code in full (CONVENTIONS.md "Errors"): its "Error codes" table
// holds exactly P2P_ERROR_CODES, and every code named anywhere in it exists.
import { describeReadmeCodes } from '@edgebox/runtime/testing';
import { P2P_ERROR_CODES } from '../src/errors.js';

describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: P2P_ERROR_CODES });
