// The README lists every error code in full (CONVENTIONS.md "Errors"): its "Error codes" table
// holds exactly EVENTS_ERROR_CODES, and every code named anywhere in it exists.
import { describeReadmeCodes } from '@edgebox/runtime/testing';
import { EVENTS_ERROR_CODES } from '../src/index.js';

describeReadmeCodes({ readme: new URL('../README.md', import.meta.url), codes: EVENTS_ERROR_CODES });
